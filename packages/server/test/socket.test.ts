import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestNode, type TestNode } from './support/test-node.js';
import { WsClient } from './support/ws-client.js';

describe('the socket', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(() => t.stop());

  it('answers auth with ready, the userId and the server time', async () => {
    const account = await t.register();
    const client = await WsClient.open(t.wsUrl);
    const before = Date.now();
    client.send({ type: 'auth', token: account.token });
    const ready = await client.next();
    assert.equal(ready.type, 'ready');
    assert.equal(ready.userId, account.userId);
    assert.ok(Math.abs(ready.serverTime - before) < 5000);
    assert.equal(ready.maxFrameBytes, 65536, 'the frame limit, so clients need not guess it');
    await client.close();
  });

  it('closes with 4001 on a bad token', async () => {
    const client = await WsClient.open(t.wsUrl);
    client.send({ type: 'auth', token: 'not-a-token' });
    assert.equal((await client.closed).code, 4001);
  });

  it('closes with 4001 when the first frame is not auth', async () => {
    const account = await t.register();
    for (const first of [{ type: 'ping' }, 'garbage', { type: 'auth' }, { type: 'send', id: 'x', to: account.userId, body: 'hi' }]) {
      const client = await WsClient.open(t.wsUrl);
      client.send(first);
      assert.equal((await client.closed).code, 4001, `first frame ${JSON.stringify(first)}`);
    }
  });

  it('closes with 4001 when no auth comes within 10 s', { timeout: 20_000 }, async () => {
    const client = await WsClient.open(t.wsUrl);
    const started = Date.now();
    assert.equal((await client.closed).code, 4001);
    assert.ok(Date.now() - started >= 9_000);
  });

  it('replaces the first connection of a device with the second (4002)', async () => {
    const account = await t.register();
    const first = await t.connect(account);
    const second = await t.connect(account);
    assert.equal((await first.closed).code, 4002);
    second.send({ type: 'ping' });
    assert.equal((await second.next()).type, 'pong');
  });

  it('keeps the connection opened last when an older one authenticates after it (4002 for the older)', { timeout: 15_000 }, async () => {
    const account = await t.register();
    const older = await WsClient.open(t.wsUrl);
    const newer = await WsClient.open(t.wsUrl);
    newer.send({ type: 'auth', token: account.token });
    await newer.next((f) => f.type === 'ready');
    older.send({ type: 'auth', token: account.token });
    assert.equal((await older.closed).code, 4002);
    newer.send({ type: 'ping' });
    assert.equal((await newer.next()).type, 'pong', 'the newer connection is still the device\'s');
    newer.socket.terminate();
  });

  it('of two sockets of a device authenticating at once, keeps the one opened last (4002 for the other)', { timeout: 20_000 }, async () => {
    // Each claim may land while the other's auth is still finishing; whichever order the node
    // sees, the older socket must close and the newer must stay the device's.
    const account = await t.register();
    for (let attempt = 0; attempt < 20; attempt++) {
      const older = await WsClient.open(t.wsUrl);
      const newer = await WsClient.open(t.wsUrl);
      const auth = { type: 'auth', token: account.token };
      if (attempt % 2 === 0) {
        older.send(auth);
        newer.send(auth);
      } else {
        newer.send(auth);
        older.send(auth);
      }
      assert.equal((await older.closed).code, 4002, `attempt ${attempt}`);
      await newer.next((f) => f.type === 'ready');
      newer.send({ type: 'ping' });
      assert.equal((await newer.next()).type, 'pong', `attempt ${attempt}: the newer connection is still the device's`);
      await newer.close();
    }
  });

  it('answers ping with pong', async () => {
    const { client } = await t.connectNew();
    client.send({ type: 'ping' });
    assert.deepEqual(await client.next(), { type: 'pong' });
  });

  it('processes frames sent right behind auth, in order', async () => {
    const account = await t.register();
    const client = await WsClient.open(t.wsUrl);
    client.send({ type: 'auth', token: account.token });
    client.send({ type: 'ping' });
    assert.equal((await client.next()).type, 'ready');
    assert.equal((await client.next()).type, 'pong');
  });

  it('answers bad frames with coded errors and stays open', async () => {
    const { account, client } = await t.connectNew();
    const cases: Array<[unknown, string, string?]> = [
      ['{not json', 'invalid_json'],
      ['[1,2]', 'invalid_frame'],
      ['"text"', 'invalid_frame'],
      ['null', 'invalid_frame'],
      [{ no: 'type' }, 'invalid_frame'],
      [{ type: 'teleport' }, 'unknown_type'],
      [{ type: 'send', id: 'm1', to: account.userId }, 'invalid_frame', 'm1'],
      [{ type: 'send', id: 'm2', body: 'no recipient' }, 'invalid_frame', 'm2'],
      [{ type: 'send', id: 'm3', to: 42, body: 'x' }, 'invalid_frame', 'm3'],
      [{ type: 'send', id: 'm4', to: '+19999999999', body: 'x' }, 'unknown_user', 'm4'],
      [{ type: 'send', id: 'm5', to: 'g_nosuchgroup', body: 'x' }, 'not_member', 'm5'],
      [{ type: 'send', id: 'm6', to: account.userId, body: '' }, 'invalid_frame', 'm6'],
      [{ type: 'send', id: 'm7', to: account.userId, body: ' \n\t\u00a0' }, 'invalid_frame', 'm7'],
      [{ type: 'ack', upTo: 'all' }, 'invalid_frame'],
      [{ type: 'ack', upTo: -1 }, 'invalid_frame'],
      [{ type: 'read', serverIds: 'x' }, 'invalid_frame'],
      [{ type: 'typing', to: account.userId }, 'invalid_frame'],
      [{ type: 'presence.subscribe', users: [1] }, 'invalid_frame'],
      [{ type: 'auth', token: account.token }, 'already_authenticated'],
    ];
    for (const [frame, code, ref] of cases) {
      client.send(frame);
      const error = await client.next();
      assert.equal(error.type, 'error', `answer to ${JSON.stringify(frame)}`);
      assert.equal(error.code, code, `code for ${JSON.stringify(frame)}: ${error.message}`);
      assert.equal(typeof error.message, 'string');
      assert.equal(error.ref, ref);
    }
    client.send({ type: 'ping' });
    assert.equal((await client.next()).type, 'pong');
  });

  it('survives a stream of garbage frames', async () => {
    const { client } = await t.connectNew();
    const garbage = ['', '{', '}', '[]', '{"type":null}', '{"type":{}}', '\u0000\u0001', '{"type":"send","id":{}}', 'x'.repeat(1000), '{"type":"ack","upTo":1e309}', '{"__proto__":{"type":"ping"}}', '{"type":"constructor"}', '{"type":"hasOwnProperty"}'];
    for (let i = 0; i < 300; i++) client.send(garbage[i % garbage.length]!);
    const errors = await client.take('error', 300, 10_000);
    assert.equal(errors.length, 300);
    client.send({ type: 'ping' });
    assert.equal((await client.next((f) => f.type === 'pong')).type, 'pong');
    const other = await t.connectNew();
    other.client.send({ type: 'ping' });
    assert.equal((await other.client.next()).type, 'pong', 'the server still serves others');
  });

  it('closes with 1009 on a frame over 64 KiB', async () => {
    const { account, client } = await t.connectNew();
    client.send({ type: 'send', id: 'big', to: account.userId, body: 'x'.repeat(70 * 1024) });
    assert.equal((await client.closed).code, 1009);
  });

  it('refuses a binary frame with an error and stays open', async () => {
    const { client } = await t.connectNew();
    client.socket.send(Buffer.from('{"type":"ping"}'), { binary: true });
    assert.equal((await client.next()).code, 'invalid_frame');
  });
});

describe('the socket under a tight frame rate and heartbeat', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--frame-rate', '20', '--heartbeat', '1']);
  });
  after(() => t.stop());

  it('names the send a rate limit dropped in the error\'s ref', async () => {
    const { account, client } = await t.connectNew();
    for (let i = 0; i < 45; i++) client.send({ type: 'send', id: `flood-${i}`, to: account.userId, body: 'x' });
    const refused = await client.next((f) => f.type === 'error' && f.code === 'rate_limited');
    assert.match(refused.ref, /^flood-\d+$/);
  });

  it('answers a flood with rate_limited, then closes with 1008', async () => {
    const { client } = await t.connectNew();
    for (let i = 0; i < 400; i++) client.send({ type: 'ping' });
    await client.next((f) => f.type === 'error' && f.code === 'rate_limited');
    assert.equal((await client.closed).code, 1008);
  });

  it('drops a socket that stops answering pings', { timeout: 10_000 }, async () => {
    const watcher = await t.connectNew();
    const { account, client } = await t.connectNew();
    watcher.client.send({ type: 'presence.subscribe', users: [account.userId] });
    assert.equal((await watcher.client.next((f) => f.type === 'presence')).online, true);
    // A paused socket reads no pings and so sends no pongs: to the server it is dead.
    (client.socket as any)._socket.pause();
    const offline = await watcher.client.next((f) => f.type === 'presence', 5000);
    assert.equal(offline.online, false);
    assert.equal(typeof offline.lastSeen, 'number');
  });
});
