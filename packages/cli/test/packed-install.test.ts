/**
 * The packages as a user outside the repo gets them: `npm pack` the SDK, the server and the CLI,
 * install the three tarballs into an empty project (from the npm cache where it can), start the
 * server with the installed `courier` bin and run the SDK README's quickstart against it, importing
 * the installed `courier-chat-client`.
 *
 * better-sqlite3 would compile from source here (no prebuilt binary can be downloaded), which takes
 * minutes on a busy machine; the repo's own install already compiled it for this very Node, so the
 * test hands that binary to better-sqlite3's installer as a local prebuilt (prebuild-install's
 * `local-prebuilds` folder). Compiling itself is exercised by `npm ci`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, runCourier, show } from './support/cli.js';
import { quickstartLines, readmeExample, runQuickstart } from './support/readme.js';
import { CourierServer } from './support/server.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// The server depends on the web client's package (it serves its built files when present).
const packages = ['client', 'web', 'server', 'cli'];

let scratch: string | undefined;
let server: CourierServer | undefined;
after(async () => {
  await server?.dispose();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

test('the packed tarballs install into an empty project, serve, and run the SDK example', { timeout: 600_000 }, async () => {
  scratch = await mkdtemp(join(tmpdir(), 'courier-packed-'));
  const tarballs = join(scratch, 'tarballs');
  const app = join(scratch, 'app');
  await Promise.all([mkdir(tarballs), mkdir(app)]);

  await run(npm, ['pack', ...packages.flatMap((p) => ['-w', `packages/${p}`]), '--pack-destination', tarballs], { cwd: repoRoot(), maxBuffer: 16 << 20 });
  const files = (await readdir(tarballs)).sort();
  assert.deepEqual(files.map((f) => f.replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')), ['courier-chat', 'courier-chat-client', 'courier-chat-server', 'courier-chat-web']);

  const prebuilds = join(scratch, 'prebuilds');
  await mkdir(prebuilds);
  const sqlite = join(repoRoot(), 'node_modules', 'better-sqlite3');
  const sqliteVersion = (JSON.parse(await readFile(join(sqlite, 'package.json'), 'utf8')) as { version: string }).version;
  const prebuilt = `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await run('tar', ['-czf', join(prebuilds, prebuilt), '-C', sqlite, 'build/Release/better_sqlite3.node']);

  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'courier-packed-test-app', private: true, type: 'module' }));
  // prebuild-install (run by better-sqlite3's install script) reads this file from the folders above it.
  await writeFile(join(app, '.prebuild-installrc'), `local-prebuilds=${prebuilds}\n`);
  const installed = await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files.map((f) => join(tarballs, f))], {
    cwd: app,
    maxBuffer: 16 << 20,
    timeout: 540_000,
  });
  assert.doesNotMatch(installed.stderr, /EBADENGINE/, 'every dependency supports this Node');

  // Only the built code ships: no tests, no TypeScript build info.
  const clientFiles = await readdir(join(app, 'node_modules', 'courier-chat-client', 'dist'));
  assert.deepEqual(clientFiles, ['src']);

  const bin = join(app, 'node_modules', '.bin', 'courier');
  const version = await runCourier(['--version'], { executable: bin, cwd: app });
  const pkg = JSON.parse(await readFile(join(repoRoot(), 'packages', 'cli', 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `courier-chat ${pkg.version}\n`, show(version));

  server = await CourierServer.start({ executable: bin });
  // The web client ships prebuilt (its dist/app only) and the installed server serves it, unbuilt.
  assert.deepEqual(await readdir(join(app, 'node_modules', 'courier-chat-web', 'dist')), ['app']);
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<div id="app">/);
  const example = join(app, 'quickstart.mjs');
  await writeFile(example, await readmeExample(join(repoRoot(), 'packages', 'client', 'README.md'), 'quickstart.mjs'));
  const result = await runQuickstart(example, app, server.url, (phone) => server!.codeFor(phone));
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  for (const line of quickstartLines) assert.match(result.stdout, line, result.stdout);
});
