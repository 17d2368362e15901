/**
 * The README examples, taken from the READMEs as they are and run against a real server: the root
 * README's "two terminals chatting" (each `npx courier ...` line run as the CLI, `register` typing
 * the code a person would read in the SMS outbox, `listen` left running as in its own terminal) and
 * the SDK README's quickstart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot, show, startCourier, type CliProcess } from './support/cli.js';
import { quickstartLines, readmeExample, runQuickstart } from './support/readme.js';
import { CourierServer } from './support/server.js';
import { Terminal } from './support/terminal.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A 1x1 PNG (jimp reads it whatever the file is called). */
const photo = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** `npx courier send +1555 "hello alice" --profile bob  # comment` → ['send', '+1555', 'hello alice', '--profile', 'bob'] */
function courierArgs(line: string): string[] | undefined {
  const words = [...line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  if (words.length === 0 || words[0]!.startsWith('#')) return undefined;
  assert.deepEqual(words.slice(0, 2), ['npx', 'courier'], `README line is not a courier command: ${line}`);
  return words.slice(2);
}

test('README: two terminals chatting, line by line', { timeout: 120_000 }, async () => {
  const server = await CourierServer.start();
  cleanups.push(() => server.dispose());
  const terminal = await Terminal.open(server);
  cleanups.push(() => terminal.close());
  await writeFile(join(terminal.home, 'photo.jpg'), photo);

  const block = await readmeExample(join(repoRoot(), 'README.md'), 'two-terminals');
  const running: CliProcess[] = [];
  cleanups.push(async () => void (await Promise.all(running.map((c) => c.stop()))));
  let lastHash: string | undefined;
  let lastServerId: string | undefined;
  for (const line of block.split('\n')) {
    const args = courierArgs(line);
    if (args === undefined) continue;
    const resolved = args.map((a) =>
      a === '<hash>'
        ? (lastHash ?? assert.fail('no hash printed before the fetch line'))
        : a === '<serverId>'
          ? (lastServerId ?? assert.fail(`no serverId printed before: ${line}`))
          : a,
    );
    if (resolved[0] === 'listen' || resolved[0] === 'chat') {
      const child = terminal.start(resolved, { deadlineMs: 100_000 });
      running.push(child);
      await child.waitFor(resolved[0] === 'listen' ? 'stderr' : 'stdout', /listening as |chatting with /);
    } else if (resolved[0] === 'register') {
      const child = terminal.start(resolved);
      await child.waitFor('stdout', /code: $/);
      child.write(`${await server.codeFor(resolved[1]!)}\n`);
      const result = await child.exited;
      assert.equal(result.code, 0, `${line}\n${show(result)}`);
    } else {
      const result = await terminal.run(resolved);
      assert.equal(result.code, 0, `${line}\n${show(result)}`);
      lastHash = /: ([0-9a-f]{64}) \(/.exec(result.stdout)?.[1] ?? lastHash;
      if (resolved[0] === 'send') lastServerId = /^sent (\S+)$/m.exec(result.stdout)?.[1] ?? lastServerId;
    }
  }
  const [listen] = running;
  assert.ok(listen, 'the example runs a listen');
  await listen.waitFor('stdout', /message from \+15550000002: hello alice/);
  await listen.waitFor('stdout', /message from \+15550000002: \[image\/jpeg, \d+ bytes, [0-9a-f]{64}, thumbnail \d+ bytes\]/);
  await listen.waitFor('stdout', /message from \+15550000002: lunch at noon\?/);
  assert.deepEqual(await readFile(join(terminal.home, 'copy.jpg')), photo, 'fetch gives back the bytes sent');
});

test('SDK README: the quickstart runs as written', { timeout: 90_000 }, async () => {
  const server = await CourierServer.start();
  cleanups.push(() => server.dispose());
  const code = await readmeExample(join(repoRoot(), 'packages', 'client', 'README.md'), 'quickstart.mjs');
  // Inside the repo, so that `courier-chat-client/node` resolves to the workspace package.
  const file = join(repoRoot(), 'packages', 'cli', 'dist', `readme-quickstart-${process.pid}.mjs`);
  await writeFile(file, code);
  cleanups.push(() => rm(file, { force: true }));
  const result = await runQuickstart(file, server.dir, server.url, (phone) => server.codeFor(phone));
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  for (const line of quickstartLines) assert.match(result.stdout, line, result.stdout);
  assert.equal(result.stderr, '');
});

test('server README: embedding a node starts, serves and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const code = await readmeExample(join(repoRoot(), 'packages', 'server', 'README.md'), 'server.mjs');
  const file = join(repoRoot(), 'packages', 'cli', 'dist', `readme-server-${process.pid}.mjs`);
  await writeFile(file, code);
  cleanups.push(() => rm(file, { force: true }));
  const dir = await mkdtemp(join(tmpdir(), 'courier-readme-server-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const child = startCourier([file, '--port', '0', '--data-dir', join(dir, 'data'), '--sms-outbox', join(dir, 'sms.jsonl'), '--log-level', 'warn'], {
    executable: process.execPath, // node itself, running the example
    cwd: dir,
  });
  const [, url] = await child.waitFor('stdout', /listening on (http\S+)/);
  const health = await fetch(`${url!}/healthz`);
  assert.equal(health.status, 200);
  const result = await child.stop('SIGTERM');
  assert.equal(result.code, 0, child.describe());
});
