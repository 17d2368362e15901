/** `courier group ...` over a real server, as two people at their terminals would use it. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { show } from './support/cli.js';
import { CourierServer } from './support/server.js';
import { Terminal, newPhone } from './support/terminal.js';

let server: CourierServer;
let alice: Terminal;
let bob: Terminal;
const [alicePhone, bobPhone, carolPhone] = [newPhone(), newPhone(), newPhone()];

before(async () => {
  server = await CourierServer.start();
  [alice, bob] = [await Terminal.open(server), await Terminal.open(server)];
  await alice.register(alicePhone, 'alice');
  await bob.register(bobPhone, 'bob');
  const carol = await Terminal.open(server);
  await carol.register(carolPhone, 'carol');
  await carol.close();
});

after(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.dispose();
});

test('create, add, show, list, remove and leave a group', { timeout: 60_000 }, async () => {
  const created = await alice.run(['group', 'create', 'Trip to Rome', bobPhone, '--profile', 'alice']);
  assert.equal(created.code, 0, show(created));
  const groupId = /^created (g_[A-Za-z0-9_-]+) "Trip to Rome": /.exec(created.stdout)?.[1];
  assert.ok(groupId, show(created));
  assert.match(created.stdout, new RegExp(`${escape(alicePhone)} \\(admin\\), ${escape(bobPhone)}\\n$`));

  const added = await alice.run(['group', 'add', groupId, carolPhone, '--profile', 'alice']);
  assert.equal(added.code, 0, show(added));
  assert.match(added.stdout, new RegExp(`${escape(bobPhone)}, ${escape(carolPhone)}\\n$`));

  const listed = await bob.run(['group', 'list', '--profile', 'bob']);
  assert.equal(listed.code, 0, show(listed));
  assert.match(listed.stdout, new RegExp(`^${groupId} "Trip to Rome": `, 'm'));

  const refused = await bob.run(['group', 'remove', groupId, carolPhone, '--profile', 'bob']);
  assert.equal(refused.code, 1, show(refused));
  assert.match(refused.stderr, /Only an admin of the group can do this/);

  const left = await bob.run(['group', 'remove', groupId, bobPhone, '--profile', 'bob']);
  assert.equal(left.code, 0, show(left));
  const shown = await bob.run(['group', 'show', groupId, '--profile', 'bob']);
  assert.equal(shown.code, 1, show(shown));
  assert.match(shown.stderr, /No such group, or you are not a member of it/);
  const none = await bob.run(['group', 'list', '--profile', 'bob']);
  assert.equal(none.stdout, 'you are in no group\n', show(none));

  const still = await alice.run(['group', 'show', groupId, '--profile', 'alice']);
  assert.equal(still.code, 0, show(still));
  assert.doesNotMatch(still.stdout, new RegExp(escape(bobPhone)));
});

test('a member typed without "+" is explained before anything is sent', { timeout: 30_000 }, async () => {
  const result = await alice.run(['group', 'create', 'Typo', bobPhone.slice(1), '--profile', 'alice']);
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, new RegExp(`no leading "\\+": .* e\\.g\\. ${escape(bobPhone)}`));
  const unknownAction = await alice.run(['group', 'rename', 'x', '--profile', 'alice']);
  assert.equal(unknownAction.code, 2, show(unknownAction));
  assert.match(unknownAction.stderr, /unknown group action "rename": expected create, add, remove, show or list/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
