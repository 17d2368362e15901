// Rewrites the options table in README.md from the server's option list (run after a build).
import { readFile, writeFile } from 'node:fs/promises';
import { envName, optionSpecs } from '../packages/server/dist/src/config/options.js';

const readmeUrl = new URL('../README.md', import.meta.url);
const rows = optionSpecs.map((spec) => {
  const flag = `--${spec.flag}${spec.kind === 'boolean' ? '' : spec.kind === 'integer' ? ' <n>' : ' <value>'}`;
  const def = 'default' in spec ? `\`${String(spec.default)}\`` : '';
  return `| \`${flag}\` | \`${envName(spec.flag)}\` | ${def} | ${spec.help.replaceAll('|', '\\|')} |`;
});
const table = ['| flag | environment variable | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
const readme = await readFile(readmeUrl, 'utf8');
const updated = readme.replace(/(<!-- options:start -->)[\s\S]*?(<!-- options:end -->)/, `$1\n${table}\n$2`);
await writeFile(readmeUrl, updated);
