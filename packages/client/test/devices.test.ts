/** Linked devices through the SDK: linkDevice, approveLink, devices, removeDevice, and what each device then sees. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CourierApiError, CourierClient, type MessageEvent, type ReceiptEvent } from '../src/node.js';
import { clientOf, register } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil, within } from './support/wait.js';

const env = sharedServer(['alice', 'bob']);

test('linkDevice returns the code at once; approveLink on the primary; the new device connects with its own token', async () => {
  const primary = clientOf(env.server, env.alice);
  const pending = await CourierClient.linkDevice(env.server.url, { name: 'SDK tablet', pollSeconds: 5 });
  assert.match(pending.linkCode, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.ok(pending.expiresIn > 0);

  const approved = await primary.approveLink(pending.linkCode);
  const linked = await within('the approval', pending.approved);
  assert.deepEqual({ userId: linked.userId, deviceId: linked.deviceId }, { userId: env.alice.userId, deviceId: approved.deviceId });
  assert.equal(approved.name, 'SDK tablet');

  const tablet = clientOf(env.server, { ...env.alice, token: linked.token });
  const got: MessageEvent[] = [];
  tablet.on('message', (m) => void got.push(m));
  await tablet.connect();
  assert.equal(tablet.deviceId, approved.deviceId);
  await primary.connect();
  assert.equal(primary.deviceId, 1);

  const devices = await tablet.devices();
  assert.deepEqual(
    devices.map((d) => [d.deviceId, d.name, d.primary, d.online]),
    [
      [1, 'Primary device', true, true],
      [approved.deviceId, 'SDK tablet', false, true],
    ],
  );

  // A message to alice reaches the tablet too; a read on the primary tells the tablet.
  const bob = clientOf(env.server, env.bob);
  await bob.connect();
  const sent = await bob.send({ to: env.alice.userId, body: 'to every device of alice' });
  await waitUntil('the tablet got the message', () => got.some((m) => m.serverId === sent.serverId));
  const elsewhere = new Promise<ReceiptEvent>((resolve) => tablet.on('receipt', (r) => {
    if (r.by === env.alice.userId) resolve(r);
  }));
  primary.read([sent.serverId]);
  const receipt = await within('the read-elsewhere receipt', elsewhere);
  assert.deepEqual([receipt.status, receipt.serverIds, receipt.deviceId], ['read', [sent.serverId], 1]);

  // The primary removes the tablet: it is revoked for good.
  await primary.removeDevice(approved.deviceId);
  await waitUntil('the tablet is revoked', () => tablet.state === 'revoked');
  await assert.rejects(tablet.devices(), (err: unknown) => err instanceof CourierApiError && err.status === 401);
  await Promise.all([primary.close(), bob.close()]);
});

test('bad input: a wrong code, and a linked device approving, answer the contract\'s errors', async () => {
  const owner = await register(env.server);
  const primary = clientOf(env.server, owner);
  await assert.rejects(primary.approveLink('ZZZZ-ZZZZ-ZZZZ'), (err: unknown) => err instanceof CourierApiError && err.status === 404 && err.code === 'invalid_link_code');

  const first = await CourierClient.linkDevice(env.server.url);
  await primary.approveLink(first.linkCode);
  const linked = clientOf(env.server, { ...owner, token: (await first.approved).token });
  // Its poll would go on until the code expires: stopped at the end of the test.
  const giveUp = new AbortController();
  const second = await CourierClient.linkDevice(env.server.url, { pollSeconds: 1, signal: giveUp.signal });
  await assert.rejects(linked.approveLink(second.linkCode), (err: unknown) => err instanceof CourierApiError && err.status === 403 && err.code === 'primary_only');
  await assert.rejects(linked.removeDevice(1), (err: unknown) => err instanceof CourierApiError && err.code === 'primary_only');
  giveUp.abort();
  await assert.rejects(second.approved);

  const stop = new AbortController();
  const waiting = await CourierClient.linkDevice(env.server.url, { signal: stop.signal, pollSeconds: 1 });
  stop.abort(new Error('the user closed the dialog'));
  await assert.rejects(waiting.approved, /the user closed the dialog/);
});
