/**
 * Blocking, presence visibility and account deletion, as users see them: on the embedded store,
 * on PostgreSQL, and across two nodes (the two users of a conversation on different nodes).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deploy, type Deployment, type DeploymentKind } from './support/deployment.js';
import type { Account } from './support/registration.js';
import type { TestNode } from './support/test-node.js';
import { WsClient, type Frame } from './support/ws-client.js';

async function call(node: TestNode, method: string, path: string, account: Account, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${account.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const isMessage = (body: string) => (f: Frame) => f.type === 'message' && f.body === body;

for (const kind of ['sqlite', 'postgres', 'two nodes'] as DeploymentKind[]) {
  describe(`blocking and privacy (${kind})`, () => {
    let d: Deployment;
    before(async () => {
      d = await deploy(kind);
    });
    after(() => d.stop());

    /** A registered user connected to the first node, and one connected to the second. */
    async function pair(): Promise<[{ account: Account; client: WsClient }, { account: Account; client: WsClient }]> {
      return Promise.all([d.first.connectNew(), d.second.connectNew()]);
    }

    async function send(client: WsClient, id: string, to: string, body: string): Promise<Frame> {
      client.send({ type: 'send', id, to, body });
      return client.next((f) => (f.type === 'sent' || f.type === 'error') && (f.id === id || f.ref === id));
    }

    it('a blocked user\'s messages are answered sent, stored for nobody, and not delivered after unblocking', async () => {
      const [alice, bob] = await pair();
      const carol = await d.first.connectNew();
      assert.equal((await call(d.second, 'PUT', `/v1/blocks/${alice.account.userId}`, bob.account)).status, 204);
      assert.deepEqual((await call(d.second, 'GET', '/v1/blocks', bob.account)).body, { blocked: [alice.account.userId] });

      const sent = await send(alice.client, 'b-1', bob.account.userId, 'while blocked');
      assert.equal(sent.type, 'sent', 'one tick, as for any message');
      const again = await send(alice.client, 'b-1', bob.account.userId, 'while blocked');
      assert.equal(again.serverId, sent.serverId, 'a repeat answers the same');
      await send(carol.client, 'c-1', bob.account.userId, 'marker 1');
      const early = await bob.client.before(isMessage('marker 1'));
      assert.deepEqual(early.filter((f) => f.type === 'message'), [], 'nothing of the blocked sender reached the blocker');

      assert.equal((await call(d.second, 'DELETE', `/v1/blocks/${alice.account.userId}`, bob.account)).status, 204);
      assert.deepEqual((await call(d.second, 'GET', '/v1/blocks', bob.account)).body, { blocked: [] });
      const after = await send(alice.client, 'b-2', bob.account.userId, 'after unblocking');
      const first = await bob.client.next((f) => f.type === 'message');
      assert.equal(first.body, 'after unblocking', 'what was sent while blocked never comes');
      bob.client.send({ type: 'ack', upTo: first.seq });
      const receipt = await alice.client.next((f) => f.type === 'receipt' && f.status === 'delivered');
      assert.deepEqual(receipt.serverIds, [after.serverId], 'the blocked message never gets a second tick');
    });

    it('the blocked user gets no presence and no typing of the blocker; groups are not affected', async () => {
      const [alice, bob] = await pair();
      const carol = await d.second.connectNew();
      await call(d.second, 'PUT', `/v1/blocks/${alice.account.userId}`, bob.account);

      alice.client.send({ type: 'presence.subscribe', users: [bob.account.userId, carol.account.userId] });
      const snapshot = await alice.client.before((f) => f.type === 'presence' && f.user === carol.account.userId);
      assert.deepEqual(snapshot.filter((f) => f.type === 'presence' || f.type === 'error'), [], 'no presence of the blocker, and it is not called unknown');

      bob.client.send({ type: 'typing', to: alice.account.userId, active: true });
      bob.client.send({ type: 'ping' });
      await bob.client.next((f) => f.type === 'pong');
      carol.client.send({ type: 'typing', to: alice.account.userId, active: true });
      const typing = await alice.client.before((f) => f.type === 'typing' && f.from === carol.account.userId);
      assert.deepEqual(typing.filter((f) => f.type === 'typing'), [], 'no typing of the blocker');

      // The blocker goes offline and back: the blocked watcher hears nothing of it.
      await bob.client.close();
      const bobAgain = await d.second.connect(bob.account);
      await carol.client.close();
      const changes = await alice.client.before((f) => f.type === 'presence' && f.user === carol.account.userId && f.online === false);
      assert.deepEqual(changes.filter((f) => f.type === 'presence' && f.user === bob.account.userId), []);

      // In a group the two share, the blocker's messages still reach the blocked user (WhatsApp's rule).
      const group = await call(d.second, 'POST', '/v1/groups', bob.account, { name: 'both', members: [alice.account.userId] });
      await send(bobAgain, 'g-1', group.body.groupId, 'to the group');
      const inGroup = await alice.client.next(isMessage('to the group'));
      assert.equal(inGroup.group, group.body.groupId);
      const back = await send(alice.client, 'g-2', group.body.groupId, 'reply in the group');
      assert.equal(back.type, 'sent');
      await bobAgain.next(isMessage('reply in the group'));
    });

    it('presence visibility: nobody, contacts (a 1:1 message or a shared group), everyone', async () => {
      const [alice, bob] = await pair();
      const [carol, dave] = await pair();
      const marker = dave.account.userId;
      const presenceOf = async (watcher: WsClient, user: string) => {
        watcher.send({ type: 'presence.subscribe', users: [user, marker] });
        const early = await watcher.before((f) => f.type === 'presence' && f.user === marker);
        return early.filter((f) => f.type === 'presence' || f.type === 'error');
      };

      assert.equal((await call(d.second, 'PUT', '/v1/privacy', bob.account, { presence: 'nobody' })).status, 204);
      assert.deepEqual(await presenceOf(alice.client, bob.account.userId), []);

      assert.equal((await call(d.second, 'PUT', '/v1/privacy', bob.account, { presence: 'contacts' })).status, 204);
      assert.deepEqual(await presenceOf(alice.client, bob.account.userId), [], 'not a contact yet');
      await send(alice.client, 'p-1', bob.account.userId, 'hi');
      const seen = await presenceOf(alice.client, bob.account.userId);
      assert.deepEqual(seen.map((f) => [f.user, f.online]), [[bob.account.userId, true]], 'a 1:1 message makes them contacts');

      assert.deepEqual(await presenceOf(carol.client, bob.account.userId), []);
      await call(d.second, 'POST', '/v1/groups', bob.account, { name: 'shared', members: [carol.account.userId] });
      const viaGroup = await presenceOf(carol.client, bob.account.userId);
      assert.deepEqual(viaGroup.map((f) => f.user), [bob.account.userId], 'sharing a group makes them contacts');

      // A change reaches the contact and not the stranger.
      const stranger = await d.first.connectNew();
      stranger.client.send({ type: 'presence.subscribe', users: [bob.account.userId] });
      await bob.client.close();
      const wentOffline = await alice.client.next((f) => f.type === 'presence' && f.user === bob.account.userId && f.online === false);
      assert.equal(typeof wentOffline.lastSeen, 'number');
      // The stranger is on alice's node: the change was decided for both watchers at once.
      const strangerSaw = stranger.client.frames;
      assert.deepEqual(strangerSaw.filter((f) => f.type === 'presence'), []);

      assert.equal((await call(d.second, 'PUT', '/v1/privacy', bob.account, { presence: 'everyone' })).status, 204);
      const open = await presenceOf(stranger.client, bob.account.userId);
      assert.deepEqual(open.map((f) => [f.user, f.online]), [[bob.account.userId, false]]);

      const bad = await call(d.second, 'PUT', '/v1/privacy', bob.account, { presence: 'friends' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'invalid_request');
    });

    it('blocking refuses an unknown user and oneself with a coded error', async () => {
      const alice = await d.first.connectNew();
      const unknown = await call(d.first, 'PUT', '/v1/blocks/+15550009999', alice.account);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'unknown_user');
      const self = await call(d.first, 'PUT', `/v1/blocks/${alice.account.userId}`, alice.account);
      assert.equal(self.status, 400);
      assert.equal(self.body.error.code, 'invalid_request');
      const anonymous = await fetch(`${d.first.url}/v1/blocks`);
      assert.equal(anonymous.status, 401);
    });

    it('deleting the account removes it everywhere and closes its socket on any node', async () => {
      const [alice, bob] = await pair();
      const group = await call(d.first, 'POST', '/v1/groups', alice.account, { name: 'kept', members: [bob.account.userId] });
      await bob.client.next((f) => f.type === 'group');
      await send(bob.client, 'd-1', alice.account.userId, 'never read');
      await call(d.first, 'PUT', `/v1/blocks/${bob.account.userId}`, alice.account);

      // Asked on the second node; the socket is on the first.
      assert.equal((await call(d.second, 'DELETE', '/v1/account', alice.account)).status, 204);
      assert.equal((await alice.client.closed).code, 4001);
      assert.equal((await call(d.second, 'GET', '/v1/blocks', alice.account)).status, 401, 'the token is dead');

      const left = await bob.client.next((f) => f.type === 'group' && f.change === 'members_removed');
      assert.deepEqual(left.users, [alice.account.userId]);
      assert.deepEqual(left.members, [bob.account.userId]);
      assert.deepEqual(left.admins, [bob.account.userId], 'the oldest member left becomes admin');
      assert.deepEqual((await call(d.second, 'GET', `/v1/groups/${group.body.groupId}`, bob.account)).body.members, [bob.account.userId]);

      const refused = await send(bob.client, 'd-2', alice.account.userId, 'to nobody');
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'unknown_user');

      // The phone registered again is a new, empty account: no inbox, no blocks, no groups.
      const again = await d.first.register(alice.account.userId);
      const fresh = await d.second.connect(again);
      assert.deepEqual((await call(d.second, 'GET', '/v1/blocks', again)).body, { blocked: [] });
      assert.deepEqual((await call(d.second, 'GET', '/v1/groups', again)).body, { groups: [] });
      await send(bob.client, 'd-3', alice.account.userId, 'to the new account');
      const first = await fresh.next((f) => f.type === 'message');
      assert.equal(first.body, 'to the new account', 'nothing of the deleted inbox is left');
    });
  });
}
