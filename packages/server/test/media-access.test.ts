/**
 * Who may fetch a blob, and the daily upload quota: on the embedded store, on PostgreSQL, and
 * across two nodes (uploaded on one, fetched on the other).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { deploy, type Deployment, type DeploymentKind } from './support/deployment.js';
import type { Account } from './support/registration.js';
import type { TestNode } from './support/test-node.js';
import type { WsClient } from './support/ws-client.js';

async function upload(node: TestNode, account: Account, bytes: Buffer): Promise<{ status: number; body: any }> {
  const response = await fetch(`${node.url}/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${account.token}`, 'content-type': 'image/png' },
    body: new Uint8Array(bytes),
  });
  return { status: response.status, body: await response.json() };
}

async function fetchMedia(node: TestNode, account: Account, hash: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${node.url}/v1/media/${hash}`, { headers: { authorization: `Bearer ${account.token}` } });
  return { status: response.status, body: await response.text() };
}

async function sendMedia(client: WsClient, id: string, to: string, media: { hash: string; size: number }): Promise<void> {
  client.send({ type: 'send', id, to, media: { hash: media.hash, size: media.size, mime: 'image/png' } });
  const answer = await client.next((f) => f.id === id || f.ref === id);
  assert.equal(answer.type, 'sent', JSON.stringify(answer));
}

for (const kind of ['sqlite', 'postgres', 'two nodes'] as DeploymentKind[]) {
  describe(`media access (${kind})`, () => {
    let d: Deployment;
    before(async () => {
      d = await deploy(kind, ['--media-quota-bytes', '3000']);
    });
    after(() => d.stop());

    it('only the uploader and those sent the blob may fetch it; others get the 404 of an unknown hash', async () => {
      const [alice, bob, carol] = await Promise.all([d.first.connectNew(), d.second.connectNew(), d.second.connectNew()]);
      const bytes = randomBytes(1000);
      const stored = await upload(d.first, alice.account, bytes);
      assert.equal(stored.status, 201);

      assert.equal((await fetchMedia(d.second, alice.account, stored.body.hash)).status, 200, 'the uploader, on any node');
      const hidden = await fetchMedia(d.second, bob.account, stored.body.hash);
      const unknownHash = 'f'.repeat(64);
      const unknown = await fetchMedia(d.second, bob.account, unknownHash);
      assert.equal(hidden.status, 404);
      assert.deepEqual(JSON.parse(hidden.body).error.code, JSON.parse(unknown.body).error.code);
      assert.equal(hidden.body.replace(stored.body.hash, unknownHash), unknown.body, 'the same answer as an unknown hash');

      await sendMedia(alice.client, 'm-1', bob.account.userId, stored.body);
      await bob.client.next((f) => f.type === 'message' && f.media?.hash === stored.body.hash);
      const fetched = await fetchMedia(d.second, bob.account, stored.body.hash);
      assert.equal(fetched.status, 200, 'the recipient may fetch it');
      assert.equal((await fetchMedia(d.second, carol.account, stored.body.hash)).status, 404, 'still no one else');

      // Group members it was sent to may fetch it.
      const group = await fetch(`${d.first.url}/v1/groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.account.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pictures', members: [carol.account.userId] }),
      }).then((response) => response.json() as Promise<{ groupId: string }>);
      await sendMedia(alice.client, 'm-2', group.groupId, stored.body);
      await carol.client.next((f) => f.type === 'message' && f.group === group.groupId);
      assert.equal((await fetchMedia(d.second, carol.account, stored.body.hash)).status, 200, 'a member of the group it was sent to');
    });

    it('a blocked sender\'s media gives the blocker no access', async () => {
      const [alice, bob] = await Promise.all([d.first.connectNew(), d.second.connectNew()]);
      await fetch(`${d.second.url}/v1/blocks/${alice.account.userId}`, { method: 'PUT', headers: { authorization: `Bearer ${bob.account.token}` } });
      const stored = await upload(d.first, alice.account, randomBytes(500));
      await sendMedia(alice.client, 'm-3', bob.account.userId, stored.body);
      assert.equal((await fetchMedia(d.second, bob.account, stored.body.hash)).status, 404);
    });

    it('limits what one user uploads per day (--media-quota-bytes)', async () => {
      const alice = await d.first.connectNew();
      assert.equal((await upload(d.first, alice.account, randomBytes(2000))).status, 201);
      const over = await upload(d.second, alice.account, randomBytes(1500));
      assert.equal(over.status, 429);
      assert.equal(over.body.error.code, 'quota_exceeded');
      assert.equal((await upload(d.second, alice.account, randomBytes(900))).status, 201, 'what still fits is taken');
      const bob = await d.second.connectNew();
      assert.equal((await upload(d.second, bob.account, randomBytes(2000))).status, 201, 'the quota is per user');
    });
  });
}
