import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from './support/postgres-database.js';
import type { Account } from './support/registration.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import type { Frame, WsClient } from './support/ws-client.js';

interface Answer {
  status: number;
  body: any;
}

/** An HTTP call as a client would make it; `as` gives the bearer token (a string is sent as is). */
async function call(t: TestNode, method: 'GET' | 'POST', path: string, as?: Account | string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (as !== undefined) headers.authorization = typeof as === 'string' ? as : `Bearer ${as.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${t.url}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function createGroup(t: TestNode, owner: Account, members: Account[], name = 'Trip'): Promise<string> {
  const answer = await call(t, 'POST', '/v1/groups', owner, { name, members: members.map((m) => m.userId) });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.groupId as string;
}

function changeMembers(t: TestNode, groupId: string, as: Account, change: { add?: string[]; remove?: string[] }): Promise<Answer> {
  return call(t, 'POST', `/v1/groups/${groupId}/members`, as, change);
}

function assertError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body?.error?.code, code, JSON.stringify(answer.body));
  assert.equal(typeof answer.body.error.message, 'string');
}

const groupEvent = (groupId: string, change?: string) => (f: Frame) =>
  f.type === 'group' && f.groupId === groupId && (change === undefined || f.change === change);

/** Acks the frames taken and those still waiting in the client, so that a later reconnect starts clean. */
function ackAll(client: WsClient, ...taken: Frame[]): void {
  const seqs = [...taken, ...client.frames].filter((f) => typeof f.seq === 'number').map((f) => f.seq as number);
  if (seqs.length > 0) client.send({ type: 'ack', upTo: Math.max(...seqs) });
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`groups (${backend} store)`, () => {
    let t: TestNode;
    let dropDatabase: (() => Promise<void>) | undefined;
    before(async () => {
      if (backend === 'postgres') {
        const db = await createTestDatabase();
        dropDatabase = () => db.drop();
        t = await startTestNode(['--database-url', db.url]);
      } else {
        t = await startTestNode();
      }
    });
    after(async () => {
      await t?.stop();
      await dropDatabase?.();
    });

    it('creates a group whose creator is its first admin, readable by its members only', async () => {
      const [alice, bob, carol, dave] = await Promise.all([t.register(), t.register(), t.register(), t.register()]);
      const created = await call(t, 'POST', '/v1/groups', alice, {
        name: 'Trip',
        members: [bob.userId, carol.userId, bob.userId, alice.userId],
        extra: 'ignored',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.groupId, /^g_[A-Za-z0-9_-]{16,}$/);
      assert.deepEqual(created.body, {
        groupId: created.body.groupId,
        name: 'Trip',
        members: [alice.userId, bob.userId, carol.userId],
        admins: [alice.userId],
      });

      const read = await call(t, 'GET', `/v1/groups/${created.body.groupId}`, bob);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, created.body);

      const outsider = await call(t, 'GET', `/v1/groups/${created.body.groupId}`, dave);
      assertError(outsider, 404, 'not_found');
      const unknown = await call(t, 'GET', '/v1/groups/g_doesnotexist00000000', alice);
      assertError(unknown, 404, 'not_found');
      assert.deepEqual(outsider.body, unknown.body, 'a group one is not in looks like no group at all');

      const alone = await call(t, 'POST', '/v1/groups', alice, { name: 'Notes to self' });
      assert.equal(alone.status, 201);
      assert.deepEqual(alone.body.members, [alice.userId]);
      assert.notEqual(alone.body.groupId, created.body.groupId);
    });

    it('lists the caller\'s groups, and none it left or was never in', async () => {
      const [alice, bob, carol] = await Promise.all([t.register(), t.register(), t.register()]);
      const first = await createGroup(t, alice, [bob], 'First');
      const second = await createGroup(t, bob, [alice], 'Second');
      await createGroup(t, carol, [], 'Elsewhere');
      const listed = await call(t, 'GET', '/v1/groups', alice);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      // Both may be created in the same millisecond: compare without the order (the store's contract checks it).
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      assert.deepEqual(
        [...listed.body.groups].sort(byName).map((g: { groupId: string; name: string; members: string[] }) => [g.groupId, g.name, g.members]),
        [
          [first, 'First', [alice.userId, bob.userId]],
          [second, 'Second', [bob.userId, alice.userId]],
        ],
      );
      assert.equal((await changeMembers(t, second, alice, { remove: [alice.userId] })).status, 200);
      assert.deepEqual((await call(t, 'GET', '/v1/groups', alice)).body.groups.map((g: { groupId: string }) => g.groupId), [first]);
      assertError(await call(t, 'GET', '/v1/groups', 'Bearer nope'), 401, 'unauthorized');
    });

    it('answers 401 unauthorized without a valid bearer token, whatever the body', async () => {
      const alice = await t.register();
      const groupId = await createGroup(t, alice, []);
      const requests: Array<[method: 'GET' | 'POST', path: string, body?: unknown]> = [
        ['POST', '/v1/groups', { name: 'x', members: [] }],
        ['POST', '/v1/groups', { bad: true }],
        ['GET', `/v1/groups/${groupId}`],
        ['POST', `/v1/groups/${groupId}/members`, { add: [alice.userId] }],
        ['POST', `/v1/groups/${groupId}/admins`, { add: [alice.userId] }],
      ];
      for (const [method, path, body] of requests) {
        for (const as of [undefined, 'Bearer not-a-token', `Basic ${alice.token}`]) {
          assertError(await call(t, method, path, as, body), 401, 'unauthorized');
        }
      }
    });

    it('refuses unregistered members, bad names and ill-typed bodies', async () => {
      const [alice, bob] = await Promise.all([t.register(), t.register()]);
      const stranger = '+15550009999001';
      const unknown = await call(t, 'POST', '/v1/groups', alice, { name: 'x', members: [bob.userId, stranger, 'nobody'] });
      assertError(unknown, 400, 'unknown_user');
      assert.match(unknown.body.error.message, /\+15550009999001/);
      assert.match(unknown.body.error.message, /nobody/);
      assert.doesNotMatch(unknown.body.error.message, new RegExp(`\\${bob.userId}`), 'names only the unknown ones');

      assertError(await call(t, 'POST', '/v1/groups', alice, { name: '', members: [] }), 400, 'invalid_name');
      assertError(await call(t, 'POST', '/v1/groups', alice, { name: '   ', members: [] }), 400, 'invalid_name');
      assertError(await call(t, 'POST', '/v1/groups', alice, { name: 'n'.repeat(101), members: [] }), 400, 'invalid_name');
      assert.equal((await call(t, 'POST', '/v1/groups', alice, { name: 'n'.repeat(100), members: [] })).status, 201);
      assert.equal((await call(t, 'POST', '/v1/groups', alice, { name: '🎉'.repeat(100), members: [] })).status, 201, 'characters, not UTF-16 units');
      assertError(await call(t, 'POST', '/v1/groups', alice, { members: [] }), 400, 'invalid_request');
      assertError(await call(t, 'POST', '/v1/groups', alice, { name: 'x', members: [{}] }), 400, 'invalid_request');
      assertError(await call(t, 'POST', '/v1/groups', alice, { name: 'x', members: { a: 1 } }), 400, 'invalid_request');

      const groupId = await createGroup(t, alice, [bob]);
      const addUnknown = await changeMembers(t, groupId, alice, { add: [stranger] });
      assertError(addUnknown, 400, 'unknown_user');
      assert.match(addUnknown.body.error.message, /\+15550009999001/);
      assertError(await changeMembers(t, groupId, alice, { add: [bob.userId], remove: [bob.userId] }), 400, 'invalid_request');
      assertError(await call(t, 'POST', `/v1/groups/${groupId}/admins`, alice, {}), 400, 'invalid_request');
      assert.deepEqual((await call(t, 'GET', `/v1/groups/${groupId}`, alice)).body.members, [alice.userId, bob.userId], 'nothing changed');
    });

    it('lets admins add, remove and promote; others get 403, outsiders 404', async () => {
      const [alice, bob, carol, dave] = await Promise.all([t.register(), t.register(), t.register(), t.register()]);
      const groupId = await createGroup(t, alice, [bob]);
      const admins = (as: Account, add: string[]) => call(t, 'POST', `/v1/groups/${groupId}/admins`, as, { add });

      assertError(await changeMembers(t, groupId, bob, { add: [carol.userId] }), 403, 'forbidden');
      assertError(await changeMembers(t, groupId, bob, { remove: [alice.userId] }), 403, 'forbidden');
      assertError(await changeMembers(t, groupId, bob, { remove: [bob.userId, alice.userId] }), 403, 'forbidden');
      assertError(await changeMembers(t, groupId, bob, { add: ['+15550009999002'] }), 403, 'forbidden');
      assertError(await admins(bob, [bob.userId]), 403, 'forbidden');
      assertError(await changeMembers(t, groupId, dave, { add: [dave.userId] }), 404, 'not_found');
      assertError(await admins(dave, [dave.userId]), 404, 'not_found');
      assertError(await changeMembers(t, 'g_doesnotexist00000000', alice, { add: [bob.userId] }), 404, 'not_found');
      assertError(await call(t, 'POST', '/v1/groups/g_doesnotexist00000000/admins', alice, { add: [bob.userId] }), 404, 'not_found');

      const added = await changeMembers(t, groupId, alice, { add: [carol.userId, carol.userId] });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.deepEqual(added.body, { groupId, name: 'Trip', members: [alice.userId, bob.userId, carol.userId], admins: [alice.userId] });

      assertError(await admins(alice, [dave.userId]), 400, 'not_member');
      const promoted = await admins(alice, [bob.userId, alice.userId]);
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.deepEqual(promoted.body.admins, [alice.userId, bob.userId]);

      const removed = await changeMembers(t, groupId, bob, { remove: [carol.userId], add: [dave.userId] });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.deepEqual(removed.body.members, [alice.userId, bob.userId, dave.userId]);
      assertError(await call(t, 'GET', `/v1/groups/${groupId}`, carol), 404, 'not_found');
      assert.deepEqual((await call(t, 'GET', `/v1/groups/${groupId}`, dave)).body, removed.body);
    });

    it('lets any member leave, and makes the oldest remaining member admin when the last admin leaves', async () => {
      const alice = await t.register();
      const bob = await t.register();
      const carol = await t.connectNew();
      const groupId = await createGroup(t, alice, [bob, carol.account]);
      await carol.client.next(groupEvent(groupId, 'created'));

      const left = await changeMembers(t, groupId, bob, { remove: [bob.userId] });
      assert.equal(left.status, 200, JSON.stringify(left.body));
      assert.deepEqual(left.body.members, [alice.userId, carol.account.userId]);
      assertError(await changeMembers(t, groupId, bob, { remove: [bob.userId] }), 404, 'not_found');

      const adminLeft = await changeMembers(t, groupId, alice, { remove: [alice.userId] });
      assert.deepEqual(adminLeft.body, { groupId, name: 'Trip', members: [carol.account.userId], admins: [carol.account.userId] });
      const bobLeft = await carol.client.next(groupEvent(groupId, 'members_removed'));
      assert.deepEqual([bobLeft.users, bobLeft.by, bobLeft.admins], [[bob.userId], bob.userId, [alice.userId]]);
      const removal = await carol.client.next(groupEvent(groupId, 'members_removed'));
      assert.deepEqual(removal.users, [alice.userId]);
      const promotion = await carol.client.next(groupEvent(groupId, 'admins_added'));
      assert.deepEqual([promotion.users, promotion.by, promotion.admins], [[carol.account.userId], alice.userId, [carol.account.userId]]);
      assert.ok(promotion.seq > removal.seq);

      const last = await changeMembers(t, groupId, carol.account, { remove: [carol.account.userId] });
      assert.deepEqual(last.body, { groupId, name: 'Trip', members: [], admins: [] });
      const gone = await carol.client.next(groupEvent(groupId, 'members_removed'));
      assert.deepEqual(gone.members, []);
      assertError(await call(t, 'GET', `/v1/groups/${groupId}`, carol.account), 404, 'not_found');
      carol.client.send({ type: 'send', id: 'to-empty', to: groupId, body: 'anyone?' });
      const refused = await carol.client.next((f) => f.type === 'error');
      assert.deepEqual([refused.code, refused.ref], ['not_member', 'to-empty']);
    });

    it('writes every change as durable group events for the members concerned, the actor included', async () => {
      const alice = await t.connectNew();
      const bob = await t.connectNew();
      const dave = await t.connectNew();
      const carol = await t.register();
      const a = alice.account.userId;
      const b = bob.account.userId;
      const d = dave.account.userId;
      const groupId = await createGroup(t, alice.account, [bob.account, carol], 'Climbing');

      for (const client of [alice.client, bob.client]) {
        const created = await client.next(groupEvent(groupId));
        assert.ok(Number.isInteger(created.seq) && created.seq > 0);
        assert.equal(typeof created.ts, 'number');
        assert.deepEqual({ ...created, seq: 0, ts: 0 }, {
          type: 'group',
          seq: 0,
          groupId,
          change: 'created',
          users: [a, b, carol.userId],
          by: a,
          name: 'Climbing',
          members: [a, b, carol.userId],
          admins: [a],
          ts: 0,
        });
      }

      assert.equal((await changeMembers(t, groupId, alice.account, { add: [d] })).status, 200);
      for (const client of [alice.client, bob.client, dave.client]) {
        const added = await client.next(groupEvent(groupId));
        assert.deepEqual([added.change, added.users, added.by, added.members], ['members_added', [d], a, [a, b, carol.userId, d]]);
      }

      assert.equal((await changeMembers(t, groupId, alice.account, { remove: [b] })).status, 200);
      for (const client of [alice.client, bob.client, dave.client]) {
        const removed = await client.next(groupEvent(groupId));
        assert.deepEqual([removed.change, removed.users, removed.members], ['members_removed', [b], [a, carol.userId, d]]);
      }

      assert.equal((await call(t, 'POST', `/v1/groups/${groupId}/admins`, alice.account, { add: [d] })).status, 200);
      for (const client of [alice.client, dave.client]) {
        const promoted = await client.next(groupEvent(groupId));
        assert.deepEqual([promoted.change, promoted.users, promoted.admins], ['admins_added', [d], [a, d]]);
      }
      // Markers sent afterwards: an event stored or pushed earlier would arrive before them.
      dave.client.send({ type: 'send', id: 'to-bob', to: b, body: 'marker' });
      const toBob = await bob.client.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(toBob.filter((f) => f.type === 'group'), [], 'a removed member hears of no later change');

      const unchanged = await changeMembers(t, groupId, alice.account, { add: [d], remove: [b] });
      assert.equal(unchanged.status, 200);
      dave.client.send({ type: 'send', id: 'to-alice', to: a, body: 'marker' });
      const toAlice = await alice.client.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(toAlice.filter((f) => f.type === 'group'), [], 'a request that changes nothing tells nobody');

      const device = await t.connect(carol);
      const missed = await device.take('group', 4);
      assert.deepEqual(missed.map((e) => e.change), ['created', 'members_added', 'members_removed', 'admins_added']);
      assert.deepEqual(missed.map((e) => e.groupId), [groupId, groupId, groupId, groupId]);
      for (let i = 1; i < missed.length; i++) assert.ok(missed[i]!.seq > missed[i - 1]!.seq);
      ackAll(device, ...missed);
      await device.quietFor(100);
      await device.close();
      const again = await t.connect(carol);
      dave.client.send({ type: 'send', id: 'to-carol', to: carol.userId, body: 'marker' });
      const toCarol = await again.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(toCarol.filter((f) => f.type === 'group'), [], 'acked group events are gone');
    });

    it('keeps every one of concurrent changes of one group', async () => {
      const alice = await t.register();
      const others = await Promise.all(Array.from({ length: 8 }, () => t.register()));
      const groupId = await createGroup(t, alice, []);
      const answers = await Promise.all(others.map((other) => changeMembers(t, groupId, alice, { add: [other.userId] })));
      assert.deepEqual(answers.map((answer) => answer.status), others.map(() => 200));
      const group = await call(t, 'GET', `/v1/groups/${groupId}`, alice);
      assert.deepEqual([...group.body.members].sort(), [alice, ...others].map((u) => u.userId).sort());
    });

    it('delivers a group message to every member but the sender, with receipts from each', async () => {
      const alice = await t.connectNew();
      const bob = await t.connectNew();
      const carol = await t.connectNew();
      const groupId = await createGroup(t, alice.account, [bob.account, carol.account]);

      alice.client.send({ type: 'send', id: 'g-1', to: groupId, body: 'hi all' });
      const sent = await alice.client.next((f) => f.type === 'sent');
      assert.equal(sent.id, 'g-1');

      const messages = await Promise.all([bob, carol].map((member) => member.client.next((f) => f.type === 'message')));
      for (const message of messages) {
        assert.deepEqual(
          [message.serverId, message.id, message.from, message.to, message.group, message.body, message.ts],
          [sent.serverId, 'g-1', alice.account.userId, groupId, groupId, 'hi all', sent.ts],
        );
      }
      bob.client.send({ type: 'send', id: 'marker', to: alice.account.userId, body: 'marker' });
      const early = await alice.client.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(early.filter((f) => f.type === 'message'), [], 'the sender gets no copy');

      bob.client.send({ type: 'ack', upTo: messages[0]!.seq });
      const first = await alice.client.next((f) => f.type === 'receipt');
      carol.client.send({ type: 'ack', upTo: messages[1]!.seq });
      const second = await alice.client.next((f) => f.type === 'receipt');
      assert.deepEqual(
        [first, second].map((r) => [r.status, r.by, r.serverIds]),
        [
          ['delivered', bob.account.userId, [sent.serverId]],
          ['delivered', carol.account.userId, [sent.serverId]],
        ],
      );

      carol.client.send({ type: 'read', serverIds: [sent.serverId] });
      bob.client.send({ type: 'read', serverIds: [sent.serverId] });
      const reads = await alice.client.take('receipt', 2);
      assert.deepEqual(reads.map((r) => r.status), ['read', 'read']);
      assert.deepEqual(reads.map((r) => r.by).sort(), [bob.account.userId, carol.account.userId].sort());
      for (const read of reads) assert.deepEqual(read.serverIds, [sent.serverId]);
      // Each member's marker follows its acks and reads: a second receipt would come before it.
      bob.client.send({ type: 'send', id: 'marker-b', to: alice.account.userId, body: 'marker b' });
      carol.client.send({ type: 'send', id: 'marker-c', to: alice.account.userId, body: 'marker c' });
      const beforeB = await alice.client.before((f) => f.type === 'message' && f.body === 'marker b');
      const beforeC = await alice.client.before((f) => f.type === 'message' && f.body === 'marker c');
      assert.deepEqual([...beforeB, ...beforeC].filter((f) => f.type === 'receipt'), [], 'one receipt of each kind per member');
    });

    it('sends nothing to a removed member, and refuses its sends', async () => {
      const alice = await t.connectNew();
      const bob = await t.connectNew();
      const carol = await t.connectNew();
      const groupId = await createGroup(t, alice.account, [bob.account, carol.account]);
      alice.client.send({ type: 'send', id: 'before', to: groupId, body: 'before' });
      const before = await carol.client.next((f) => f.type === 'message');
      assert.equal(before.body, 'before');

      assert.equal((await changeMembers(t, groupId, alice.account, { remove: [carol.account.userId] })).status, 200);
      const removal = await carol.client.next(groupEvent(groupId, 'members_removed'));
      alice.client.send({ type: 'send', id: 'after', to: groupId, body: 'after' });
      await alice.client.next((f) => f.type === 'sent' && f.id === 'after');
      assert.equal((await bob.client.next((f) => f.type === 'message' && f.id === 'after')).body, 'after');
      alice.client.send({ type: 'typing', to: groupId, active: true });
      await bob.client.next((f) => f.type === 'typing');
      alice.client.send({ type: 'send', id: 'marker', to: carol.account.userId, body: 'marker' });
      const early = await carol.client.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(early.filter((f) => f.type === 'message' || f.type === 'typing'), [], 'neither the message nor the typing');

      carol.client.send({ type: 'send', id: 'sneak', to: groupId, body: 'still here?' });
      const refused = await carol.client.next((f) => f.type === 'error');
      assert.deepEqual([refused.code, refused.ref], ['not_member', 'sneak']);

      ackAll(carol.client, before, removal);
      await carol.client.quietFor(100);
      await carol.client.close();
      const back = await t.connect(carol.account);
      alice.client.send({ type: 'send', id: 'marker-2', to: carol.account.userId, body: 'marker 2' });
      const later = await back.before((f) => f.type === 'message' && f.body === 'marker 2');
      assert.deepEqual(later.filter((f) => f.type === 'message' && f.id !== 'marker'), [], 'nor after a reconnect');
    });

    it('answers a non-member\'s send with error not_member and its ref, and stays open', async () => {
      const alice = await t.register();
      const bob = await t.connectNew();
      const dave = await t.connectNew();
      const groupId = await createGroup(t, alice, [bob.account]);

      dave.client.send({ type: 'send', id: 'x-1', to: groupId, body: 'let me in' });
      const error = await dave.client.next((f) => f.type === 'error');
      assert.deepEqual([error.code, error.ref], ['not_member', 'x-1']);
      assert.equal(typeof error.message, 'string');
      dave.client.send({ type: 'send', id: 'x-2', to: 'g_doesnotexist00000000', body: 'hello?' });
      const unknown = await dave.client.next((f) => f.type === 'error');
      assert.deepEqual([unknown.code, unknown.ref], ['not_member', 'x-2']);
      dave.client.send({ type: 'send', id: 'marker', to: bob.account.userId, body: 'marker' });
      const early = await bob.client.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(early.filter((f) => f.type === 'message'), []);

      dave.client.send({ type: 'ping' });
      await dave.client.next((f) => f.type === 'pong');
    });

    it('passes typing to a group on to its online members only, and never stores it', async () => {
      const alice = await t.connectNew();
      const bob = await t.connectNew();
      const carol = await t.register();
      const dave = await t.connectNew();
      const groupId = await createGroup(t, alice.account, [bob.account, carol]);

      alice.client.send({ type: 'typing', to: groupId, active: true });
      const typing = await bob.client.next((f) => f.type === 'typing');
      assert.deepEqual(typing, { type: 'typing', from: alice.account.userId, to: groupId, active: true });
      // Bob's own typing goes the same way after alice's was handed out: an echo would come first.
      bob.client.send({ type: 'typing', to: alice.account.userId, active: true });
      const echoed = await alice.client.before((f) => f.type === 'typing' && f.from === bob.account.userId);
      assert.deepEqual(echoed.filter((f) => f.type === 'typing'), [], 'not echoed to the typist');

      const later = await t.connect(carol);
      await later.next(groupEvent(groupId, 'created'));
      alice.client.send({ type: 'send', id: 'to-carol', to: carol.userId, body: 'marker' });
      const kept = await later.before((f) => f.type === 'message' && f.body === 'marker');
      assert.deepEqual(kept.filter((f) => f.type === 'typing'), [], 'typing is not kept for members offline at the time');

      dave.client.send({ type: 'typing', to: groupId, active: true });
      assert.equal((await dave.client.next((f) => f.type === 'error')).code, 'not_member');
      alice.client.send({ type: 'typing', to: groupId, active: false });
      const early = await bob.client.before((f) => f.type === 'typing' && f.active === false);
      assert.deepEqual(early.filter((f) => f.type === 'typing'), [], 'nothing of the non-member');
    });
  });
}

describe('groups: the size limit', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--max-group-size', '3']);
  });
  after(() => t.stop());

  it('refuses a group of more than --max-group-size members, the creator included', async () => {
    const [alice, bob, carol, dave] = await Promise.all([t.register(), t.register(), t.register(), t.register()]);
    const tooLarge = await call(t, 'POST', '/v1/groups', alice, { name: 'x', members: [bob.userId, carol.userId, dave.userId] });
    assertError(tooLarge, 400, 'group_too_large');
    assert.match(tooLarge.body.error.message, /\b3\b/);

    const full = await call(t, 'POST', '/v1/groups', alice, { name: 'x', members: [bob.userId, carol.userId, bob.userId, alice.userId] });
    assert.equal(full.status, 201, 'duplicates and the creator count once');
    const groupId = full.body.groupId as string;

    const grow = await changeMembers(t, groupId, alice, { add: [dave.userId] });
    assertError(grow, 400, 'group_too_large');
    assert.match(grow.body.error.message, /\b3\b/);
    assert.deepEqual((await call(t, 'GET', `/v1/groups/${groupId}`, alice)).body.members, [alice.userId, bob.userId, carol.userId]);

    const swap = await changeMembers(t, groupId, alice, { remove: [carol.userId], add: [dave.userId] });
    assert.equal(swap.status, 200, JSON.stringify(swap.body));
    assert.deepEqual(swap.body.members, [alice.userId, bob.userId, dave.userId]);
  });
});
