/**
 * The README's "two terminals chatting" over a real server: `send`, `listen`, `send --file`,
 * `fetch`, each run as its own process with its own profile folder.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show } from './support/cli.js';
import { CourierServer } from './support/server.js';
import { Terminal, newPhone } from './support/terminal.js';

let server: CourierServer;
const terminals: Terminal[] = [];

/** A 1x1 PNG. */
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const time = String.raw`\d\d:\d\d:\d\d`;
const uuid = String.raw`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Two people, each on a terminal of their own, registered through the CLI. */
async function aliceAndBob(): Promise<{ alice: Terminal; bob: Terminal; alicePhone: string; bobPhone: string }> {
  const [alice, bob] = [await Terminal.open(server), await Terminal.open(server)];
  terminals.push(alice, bob);
  const [alicePhone, bobPhone] = [newPhone(), newPhone()];
  await alice.register(alicePhone, 'alice');
  await bob.register(bobPhone, 'bob');
  return { alice, bob, alicePhone, bobPhone };
}

before(async () => {
  server = await CourierServer.start();
});

after(async () => {
  await Promise.all(terminals.map((t) => t.close()));
  await server.dispose();
});

test('send prints sent then delivered; listen prints the message as one line and acks it', { timeout: 50_000 }, async () => {
  const { alice, bob, alicePhone, bobPhone } = await aliceAndBob();
  const listen = await alice.listen('alice');

  const sent = await bob.run(['send', alicePhone, 'hello', 'alice', '--profile', 'bob', '--wait', '10']);
  assert.equal(sent.code, 0, show(sent));
  const id = new RegExp(`^sent (${uuid})\n`).exec(sent.stdout)?.[1];
  assert.ok(id !== undefined, show(sent));
  assert.match(sent.stdout, new RegExp(`^sent ${id}\n${time} delivered by ${escape(alicePhone)}: ${id}  \\(seq \\d+\\)\n$`));

  const line = new RegExp(`^${time} message from ${escape(bobPhone)}: hello alice  \\(id ${id}, seq \\d+\\)$`, 'm');
  await listen.waitFor('stdout', line);
  const first = await listen.stop('SIGINT');
  assert.equal(first.code, 0, show(first));
  assert.equal(first.stdout.split('\n').filter((l) => l !== '').length, 1, show(first));
  assert.match(first.stderr, /closing\n$/);

  await server.restart();
  // Without its seq memory the SDK would print a redelivered message again: only the server having
  // deleted it on the ack keeps it off the screen now.
  await rm(join(alice.courierHome, 'alice.state.json'), { force: true });
  const again = await alice.listen('alice');
  const next = await bob.run(['send', alicePhone, 'after the restart', '--profile', 'bob', '--wait', '10']);
  assert.equal(next.code, 0, show(next));
  // The server pushes oldest first: had the first message been kept, it would come before this one.
  await again.waitFor('stdout', new RegExp(`message from ${escape(bobPhone)}: after the restart `));
  const second = await again.stop('SIGINT');
  assert.equal(second.code, 0, show(second));
  assert.doesNotMatch(second.stdout, /hello alice/);
  assert.equal(second.stdout.split('\n').filter((l) => l !== '').length, 1, show(second));
});

test('send --file to someone offline, listen shows the media, fetch gives the same bytes', { timeout: 50_000 }, async () => {
  const { alice, bob, alicePhone, bobPhone } = await aliceAndBob();
  const photo = join(bob.home, 'photo.png');
  await writeFile(photo, png);

  const sent = await bob.run(['send', alicePhone, '--file', photo, '--caption', 'a dot', '--profile', 'bob', '--wait', '0']);
  assert.equal(sent.code, 0, show(sent));
  const hash = /^uploaded photo\.png: ([0-9a-f]{64}) \(70 bytes, image\/png, with a thumbnail\)\n/.exec(sent.stdout)?.[1];
  assert.ok(hash !== undefined, show(sent));
  const id = new RegExp(`^sent (${uuid})$`, 'm').exec(sent.stdout)?.[1];
  assert.ok(id !== undefined, show(sent));
  assert.match(sent.stdout, /not delivered yet \(the recipient is offline\)/);

  const listen = await alice.listen('alice');
  await listen.waitFor('stdout', new RegExp(`^${time} message from ${escape(bobPhone)}: \\[image/png, 70 bytes, ${hash}, thumbnail \\d+ bytes "a dot"\\]  \\(id ${id}, seq \\d+\\)$`, 'm'));
  assert.equal((await listen.stop()).code, 0, listen.describe());

  const copy = join(alice.home, 'copy.png');
  const fetched = await alice.run(['fetch', hash, copy, '--profile', 'alice']);
  assert.equal(fetched.code, 0, show(fetched));
  assert.equal(fetched.stdout, `saved ${copy} (70 bytes, image/png)\n`);
  assert.deepEqual(await readFile(copy), png);

  // Bob was offline when Alice took the photo: the delivered receipt waits for his next listen.
  const bobListen = await bob.listen('bob');
  await bobListen.waitFor('stdout', new RegExp(`^${time} delivered by ${escape(alicePhone)}: ${id}  \\(seq \\d+\\)$`, 'm'));
  assert.equal((await bobListen.stop()).code, 0, bobListen.describe());
});

test('a bigger binary file survives send --file and fetch to stdout byte for byte', { timeout: 40_000 }, async () => {
  const { alice, bob, alicePhone } = await aliceAndBob();
  const bytes = randomBytes(300 * 1024);
  const file = join(bob.home, 'blob.bin');
  await writeFile(file, bytes);

  const sent = await bob.run(['send', alicePhone, '--file', file, '--profile', 'bob', '--wait', '0']);
  assert.equal(sent.code, 0, show(sent));
  const hash = new RegExp(`^uploaded blob\\.bin: ([0-9a-f]{64}) \\(${bytes.length} bytes, application/octet-stream\\)\n`).exec(sent.stdout)?.[1];
  assert.ok(hash !== undefined, show(sent));

  const fetched = await alice.run(['fetch', hash, '-', '--profile', 'alice']);
  assert.equal(fetched.code, 0, `exit ${fetched.code}\n${fetched.stderr}`);
  assert.ok(fetched.stdoutBytes.equals(bytes), `fetch wrote ${fetched.stdoutBytes.length} bytes, not the ${bytes.length} sent`);
});

test('send to an unregistered user fails with the server message and sends nothing', { timeout: 30_000 }, async () => {
  const { bob } = await aliceAndBob();
  const nobody = newPhone();
  const result = await bob.run(['send', nobody, 'anyone there?', '--profile', 'bob']);
  assert.equal(result.code, 1, show(result));
  assert.match(result.stderr, new RegExp(`^courier send: No user ${escape(nobody)} is registered\\.?\n$`));
  assert.doesNotMatch(result.stdout, /^sent /m);
});

test('a text too long for the server says to send it as a file, and sends nothing', { timeout: 30_000 }, async () => {
  const { bob, alicePhone } = await aliceAndBob();
  const result = await bob.run(['send', alicePhone, 'x'.repeat(70_000), '--profile', 'bob']);
  assert.equal(result.code, 1, show(result));
  assert.match(result.stderr, /the message is too long for this server \(at most 65536 bytes per message\): save it to a file and send that with --file/);
  assert.doesNotMatch(result.stdout, /^sent /m);
});

test('fetch of a hash the server does not have fails and leaves no file', { timeout: 30_000 }, async () => {
  const { alice } = await aliceAndBob();
  const out = join(alice.home, 'missing.bin');
  const result = await alice.run(['fetch', 'ab'.repeat(32), out, '--profile', 'alice']);
  assert.equal(result.code, 1, show(result));
  assert.match(result.stderr, /^courier fetch: .+\n$/);
  await assert.rejects(stat(out), { code: 'ENOENT' });
});
