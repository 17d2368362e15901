/**
 * `courier send --reply-to`, `edit`, `delete` and `react` over a real server, each run as its own
 * process, and what `courier listen` prints of them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { show } from './support/cli.js';
import { CourierServer } from './support/server.js';
import { Terminal, newPhone } from './support/terminal.js';

let server: CourierServer;
const terminals: Terminal[] = [];
const uuid = String.raw`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`;

before(async () => {
  server = await CourierServer.start();
});

after(async () => {
  await Promise.all(terminals.map((t) => t.close()));
  await server.dispose();
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sentId(stdout: string): string {
  const id = new RegExp(`^sent (${uuid})$`, 'm').exec(stdout)?.[1];
  assert.ok(id !== undefined, stdout);
  return id;
}

test('reply, edit, react and delete from the command line; listen prints each as one line', { timeout: 60_000 }, async () => {
  const [alice, bob] = [await Terminal.open(server), await Terminal.open(server)];
  terminals.push(alice, bob);
  const [alicePhone, bobPhone] = [newPhone(), newPhone()];
  await alice.register(alicePhone, 'alice');
  await bob.register(bobPhone, 'bob');

  const first = await bob.run(['send', alicePhone, 'lunch?', '--profile', 'bob', '--wait', '0']);
  assert.equal(first.code, 0, show(first));
  const target = sentId(first.stdout);
  const reply = await alice.run(['send', bobPhone, 'yes', '--reply-to', target, '--expires-in', '3600', '--profile', 'alice', '--wait', '0']);
  assert.equal(reply.code, 0, show(reply));

  const edited = await bob.run(['edit', alicePhone, target, 'lunch at noon?', '--profile', 'bob']);
  assert.equal(edited.code, 0, show(edited));
  sentId(edited.stdout);
  const reacted = await alice.run(['react', bobPhone, target, '👍', '--profile', 'alice']);
  assert.equal(reacted.code, 0, show(reacted));
  const refused = await alice.run(['edit', bobPhone, target, 'not mine', '--profile', 'alice']);
  assert.equal(refused.code, 1, show(refused));
  assert.match(refused.stderr, /^courier edit: Only the author of a message may edit it\.\n$/);
  const deleted = await bob.run(['delete', alicePhone, target, '--profile', 'bob']);
  assert.equal(deleted.code, 0, show(deleted));
  const bad = await alice.run(['react', bobPhone, target, '👍', '--remove', '--profile', 'alice']);
  assert.equal(bad.code, 2, show(bad));
  const tooShort = await alice.run(['send', bobPhone, 'x', '--expires-in', '10', '--profile', 'alice']);
  assert.equal(tooShort.code, 2, show(tooShort));

  const aliceListen = await alice.listen('alice');
  // The message was delivered to nobody yet: the delete removed it, so only the actions show.
  await aliceListen.waitFor('stdout', new RegExp(`message ${target} deleted by ${escape(bobPhone)}  \\(seq \\d+\\)`));
  const atAlice = await aliceListen.stop('SIGINT');
  assert.doesNotMatch(atAlice.stdout, /lunch\?/, 'the deleted text never reached alice');
  assert.match(atAlice.stdout, new RegExp(`message ${target} edited by ${escape(bobPhone)}: lunch at noon\\?  \\(seq \\d+\\)`));

  const bobListen = await bob.listen('bob');
  await bobListen.waitFor('stdout', new RegExp(`message ${target} reaction 👍 by ${escape(alicePhone)}`));
  const atBob = await bobListen.stop('SIGINT');
  assert.match(atBob.stdout, new RegExp(`message from ${escape(alicePhone)}: yes \\[reply to ${target}, disappears after 3600 s\\]`));
});
