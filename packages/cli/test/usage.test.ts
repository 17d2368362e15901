/**
 * The command line itself, no server needed: help, usage errors and their exit statuses
 * (0 asked-for help, 2 a wrong command line, 1 a command that failed).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, runCourier, show } from './support/cli.js';

const commands = ['serve', 'register', 'send', 'listen', 'fetch', 'group', 'chat', 'probe'];
let scratch = '';

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'courier-cli-test-usage-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('courier --help (as npx runs it) exits 0 and lists every command on stdout', { timeout: 20_000 }, async () => {
  const result = await runCourier(['--help']);
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, /^usage: courier <command>/);
  for (const command of commands) assert.match(result.stdout, new RegExp(`^  ${command}\\b`, 'm'), `"${command}" missing from\n${result.stdout}`);
  assert.equal(result.stderr, '');
});

test('courier --version prints the package name and version', { timeout: 20_000 }, async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot(), 'packages', 'cli', 'package.json'), 'utf8')) as { version: string };
  const result = await runCourier(['--version']);
  assert.equal(result.code, 0, show(result));
  assert.equal(result.stdout, `courier-chat ${pkg.version}\n`);
});

test('the npm bin link runs through its shebang', { timeout: 20_000 }, async (t) => {
  const link = join(repoRoot(), 'node_modules', '.bin', 'courier');
  if (!existsSync(link)) return t.skip('no node_modules/.bin/courier (workspaces not installed)');
  const result = await runCourier(['--help'], { executable: link });
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, /^usage: courier <command>/);
});

test('an unknown command exits 2 with the usage on stderr', { timeout: 20_000 }, async () => {
  const result = await runCourier(['frobnicate']);
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /^courier: unknown command "frobnicate"\nusage: courier <command>/);
  assert.equal(result.stdout, '');
});

test('serve --help lists the server options with their variables and defaults', { timeout: 20_000 }, async () => {
  const result = await runCourier(['serve', '--help']);
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, /^usage: courier serve \[options\]/);
  for (const flag of ['--port', '--host', '--data-dir', '--sms-outbox', '--database-url', '--redis-url', '--log-level']) {
    assert.match(result.stdout, new RegExp(`^  ${flag}\\b`, 'm'), `${flag} missing from\n${result.stdout}`);
  }
  assert.match(result.stdout, /COURIER_PORT/);
  assert.match(result.stdout, /default 8080/);
});

test('serve --prot 1 (a typo) exits 2 at once, names the option and starts nothing', { timeout: 20_000 }, async () => {
  // Run in an empty folder: a server that started anyway would leave its ./data there.
  const cwd = join(scratch, 'typo');
  await mkdir(cwd);
  const result = await runCourier(['serve', '--prot', '1'], { cwd, deadlineMs: 10_000 });
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /--prot/);
  assert.match(result.stderr, /courier serve --help/);
  assert.doesNotMatch(result.stdout, /listening/);
  assert.deepEqual(await readdir(cwd), []);
});

test('client commands with a wrong command line exit 2 with their usage', { timeout: 30_000 }, async () => {
  const env = { COURIER_HOME: join(scratch, 'home') };
  const cases: { args: string[]; stderr: RegExp }[] = [
    { args: ['send'], stderr: /expected a recipient and a text or --file\nusage: courier send/ },
    { args: ['send', '+15550000001', 'hi', '--colour', 'red'], stderr: /--colour/ },
    { args: ['fetch', 'not-a-hash', 'out.bin'], stderr: /"not-a-hash" is not a sha-256 hash/ },
    { args: ['register'], stderr: /expected one phone number\nusage: courier register/ },
    { args: ['register', '15550000001'], stderr: /"15550000001" has no leading "\+": .*e\.g\. \+15550000001/ },
    { args: ['send', '5550000001', 'hi'], stderr: /"5550000001" has no leading "\+"/ },
    { args: ['send', '+1 555', 'hi'], stderr: /"\+1 555" is not a phone number/ },
    { args: ['listen', 'extra'], stderr: /unexpected argument "extra"/ },
    { args: ['send', '+15550000001', 'hi', '--profile', '../escape'], stderr: /bad profile name "\.\.\/escape"/ },
  ];
  for (const { args, stderr } of cases) {
    const result = await runCourier(args, { cwd: scratch, env });
    assert.equal(result.code, 2, show(result));
    assert.match(result.stderr, stderr, show(result));
  }
  assert.equal(existsSync(env.COURIER_HOME), false, 'a usage error must not create the profile folder');
});

test('a client command before register says which command to run', { timeout: 20_000 }, async () => {
  const home = join(scratch, 'empty-home');
  const result = await runCourier(['send', '+15550000001', 'hi', '--profile', 'alice'], { cwd: scratch, env: { COURIER_HOME: home } });
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /no profile "alice" .*run "courier register <phone> --profile alice" first/);
});

test('each command answers --help with its usage and exit 0', { timeout: 30_000 }, async () => {
  for (const command of commands.filter((c) => c !== 'serve')) {
    const result = await runCourier([command, '--help'], { cwd: scratch, env: { COURIER_HOME: join(scratch, 'home') } });
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, new RegExp(`^usage: courier ${command}`));
  }
});
