/** `courier link`, `courier approve` and `courier devices` over a real server, on two terminals of one person. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { show } from './support/cli.js';
import { CourierServer } from './support/server.js';
import { Terminal, newPhone } from './support/terminal.js';

let server: CourierServer;
let phone: Terminal;
let laptop: Terminal;
const alice = newPhone();

before(async () => {
  server = await CourierServer.start();
  [phone, laptop] = [await Terminal.open(server), await Terminal.open(server)];
  await phone.register(alice, 'alice');
});

after(async () => {
  await Promise.all([phone?.close(), laptop?.close()]);
  await server?.dispose();
});

test('link a terminal with a code and a QR code, approve it on the primary, list and remove devices', { timeout: 60_000 }, async () => {
  const linking = laptop.start(['link', '--name', 'Work laptop', '--profile', 'laptop'], { deadlineMs: 30_000 });
  const [, code] = await linking.waitFor('stdout', /link code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\n/);
  // The QR code is drawn with block characters before the code.
  assert.match(linking.stdout.split('link code:')[0]!, /[▀▄█]{4,}/);

  const wrong = await phone.run(['approve', 'ZZZZ-ZZZZ-ZZZZ', '--profile', 'alice']);
  assert.equal(wrong.code, 1, show(wrong));
  assert.match(wrong.stderr, /No device is waiting with this link code/);

  const approved = await phone.run(['approve', code!, '--profile', 'alice']);
  assert.equal(approved.code, 0, show(approved));
  assert.equal(approved.stdout, `linked device 2 "Work laptop" to ${alice}\n`);
  const linked = await linking.exited;
  assert.equal(linked.code, 0, show(linked));
  assert.match(linked.stdout, new RegExp(`linked as device 2 of \\${alice} \\(profile "laptop"`));

  const listed = await laptop.run(['devices', '--profile', 'laptop']);
  assert.equal(listed.code, 0, show(listed));
  const lines = listed.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^1 {2}"Primary device" {2}primary {2}last seen /);
  assert.match(lines[1]!, /^2 {2}"Work laptop" {2}linked {2}last seen .* {2}\(this one\)$/);

  const refused = await laptop.run(['approve', code!, '--profile', 'laptop']);
  assert.equal(refused.code, 1, show(refused));
  assert.match(refused.stderr, /Only the primary device can approve a link/);

  const removed = await phone.run(['devices', 'remove', '2', '--profile', 'alice']);
  assert.equal(removed.code, 0, show(removed));
  const gone = await laptop.run(['devices', '--profile', 'laptop']);
  assert.equal(gone.code, 1, show(gone));
  assert.match(gone.stderr, /token was refused: it was removed from the account.*courier link --profile laptop/);
});
