/**
 * The `courier` command: `serve` runs a server node; the other commands are a terminal client
 * built on the SDK. Each command is one file in commands/ (see command.ts): the registry is that
 * folder, so a new command needs no change here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { argv, exit, stderr, stdout } from 'node:process';
import type { CommandModule } from './command.js';
import { describeError, isUsageError } from './client-support/errors.js';

const commandsDir = new URL('./commands/', import.meta.url);
const names = readdirSync(commandsDir)
  .filter((file) => file.endsWith('.js'))
  .map((file) => file.slice(0, -'.js'.length))
  .sort((a, b) => (a === 'serve' ? -1 : b === 'serve' ? 1 : a.localeCompare(b)));

function load(name: string): Promise<CommandModule> {
  return import(new URL(`${name}.js`, commandsDir).href) as Promise<CommandModule>;
}

async function usage(): Promise<string> {
  const summaries = await Promise.all(names.map(async (name) => (await load(name)).summary));
  return `usage: courier <command> [options]

${summaries.map((s) => s.replace(/^/gm, '  ')).join('\n')}

Client commands take --server <url> (default http://127.0.0.1:8080, or COURIER_SERVER)
and --profile <name> (default "default", or COURIER_PROFILE) to keep several identities;
profiles live in ~/.courier/ (or COURIER_HOME). courier <command> --help says more.
courier --version prints the version.`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

const [name, ...rest] = argv.slice(2);
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  stdout.write(`${await usage()}\n`);
} else if (name === '--version' || name === '-v' || name === 'version') {
  stdout.write(`${version()}\n`);
} else if (!names.includes(name)) {
  stderr.write(`courier: unknown command "${name}"\n${await usage()}\n`);
  exit(2);
} else {
  const command = await load(name);
  try {
    await command.run(rest);
  } catch (err) {
    stderr.write(`courier ${name}: ${describeError(err)}\n`);
    // 2 says "the command line was wrong" (as for an unknown command), 1 "it failed": scripts can tell them apart.
    exit(isUsageError(err) ? 2 : 1);
  }
}
