import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FakePushService, type BrowserSubscription } from './support/fake-push-service.js';
import { linkDevice } from './support/devices.js';
import { register, type Account } from './support/registration.js';
import { eventually, sample, scrape } from './support/scrape.js';
import { spawnNode, type SpawnedNode } from './support/spawned-node.js';
import { WsClient } from './support/ws-client.js';

const PUSH_INTERVAL_S = 2;

async function call(url: string, method: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('push to offline devices (a spawned server, a real HTTPS push service on 127.0.0.1)', () => {
  let dir: string;
  let service: FakePushService;
  let node: SpawnedNode;
  let args: string[];
  let env: Record<string, string>;
  let sender: Account;
  let senderClient: WsClient;
  let counter = 0;

  const smsFile = () => join(dir, 'sms.jsonl');
  const newAccount = () => register(node.url, smsFile());
  const setTarget = (account: Account, body: unknown) => call(`${node.url}/v1/devices/me/push`, 'PUT', account.token, body);
  const webpushOf = (subscription: BrowserSubscription) => ({ webpush: { endpoint: subscription.endpoint, keys: subscription.keys } });
  /** Sends a message from the connected sender and waits for its `sent`. */
  const send = async (to: Account, body = 'secret text that must not leave the server') => {
    const id = `m${++counter}`;
    senderClient.send({ type: 'send', id, to: to.userId, body });
    await senderClient.next((f) => f.type === 'sent' && f.id === id);
  };
  /** An offline account with a Web Push subscription. */
  const offlineSubscribed = async () => {
    const account = await newAccount();
    const subscription = service.subscribe();
    assert.equal((await setTarget(account, webpushOf(subscription))).status, 204);
    return { account, subscription };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'courier-push-'));
    service = await FakePushService.start(dir);
    args = ['--port', '0', '--data-dir', join(dir, 'data'), '--sms-outbox', smsFile(), '--push-hosts', '127.0.0.1', '--push-interval', String(PUSH_INTERVAL_S), '--alert-loop-lag', '0'];
    // The server trusts the push service's self-signed certificate the way an operator would make it trust a private CA.
    env = { NODE_EXTRA_CA_CERTS: service.certFile };
    node = await spawnNode(args, env);
    sender = await newAccount();
    senderClient = await WsClient.connect(node.wsUrl, sender.token);
  });

  after(async () => {
    senderClient?.socket.terminate();
    node?.process.kill('SIGTERM');
    await node?.exited;
    await service?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET /v1/push/vapid gives the application server key: an uncompressed P-256 point', async () => {
    const { status, body } = await call(`${node.url}/v1/push/vapid`, 'GET', undefined);
    assert.equal(status, 200);
    const key = Buffer.from(body.publicKey, 'base64url');
    assert.equal(key.length, 65);
    assert.equal(key[0], 4);
  });

  it('an offline device gets a wake within 5 s: VAPID-signed, aes128gcm, no message text', async () => {
    const { status, body } = await call(`${node.url}/v1/push/vapid`, 'GET', undefined);
    assert.equal(status, 200);
    const { account, subscription } = await offlineSubscribed();
    await send(account);
    const [push] = await service.until(() => service.pushesTo(subscription.id).length > 0 && service.pushesTo(subscription.id), 'a wake', 5000);
    assert.deepEqual(push!.payload, { type: 'wake', unread: 1 });
    assert.doesNotMatch(push!.text, /secret/);
    assert.equal(push!.vapidKey, body.publicKey, 'signed with the key browsers subscribe with');
    assert.equal(push!.claims.aud, service.origin);
    assert.equal(push!.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(push!.headers.ttl) > 0, 'TTL');
    assert.equal(push!.headers.urgency, 'high');
    assert.match(String(push!.headers.topic), /^[A-Za-z0-9_-]{1,32}$/, 'a Topic, so the service keeps only the newest wake');
    assert.deepEqual(service.rejected, []);
  });

  it('a push gateway target gets {pushkey, userId, deviceId, unread}', async () => {
    const account = await newAccount();
    assert.equal((await setTarget(account, { gateway: { url: service.gatewayUrl, pushkey: 'fcm-registration-token' } })).status, 204);
    await send(account);
    await send(account);
    const call = await service.until(() => service.gatewayCalls.find((c) => c.body.userId === account.userId), 'a gateway call');
    assert.equal(call.body.pushkey, 'fcm-registration-token');
    assert.equal(call.body.deviceId, 1);
    assert.ok(call.body.unread === 1 || call.body.unread === 2, `unread ${call.body.unread}`);
    assert.deepEqual(Object.keys(call.body).sort(), ['deviceId', 'pushkey', 'unread', 'userId']);
  });

  it('coalesces: a burst of messages gives one wake at once and at most one more at the interval, with every message counted', async () => {
    const { account, subscription } = await offlineSubscribed();
    for (let i = 0; i < 5; i++) await send(account);
    await service.until(() => service.pushesTo(subscription.id).some((p) => p.payload.unread === 5), 'a wake counting all 5 messages');
    // A marker: a wake for another device, decided after the burst's; the burst's wakes come before it or not at all.
    const marker = await offlineSubscribed();
    await send(marker.account);
    await service.until(() => service.pushesTo(marker.subscription.id).length > 0, 'the marker wake');
    const wakes = service.pushesTo(subscription.id);
    assert.ok(wakes.length <= 2, `5 messages gave ${wakes.length} wakes: ${JSON.stringify(wakes.map((w) => w.payload))}`);
    assert.equal(new Set(wakes.map((w) => w.headers.topic)).size, 1, 'one Topic: the push service replaces the older wake');
  });

  it('an online device gets no push', async () => {
    const online = await offlineSubscribed();
    const client = await WsClient.connect(node.wsUrl, online.account.token);
    try {
      await send(online.account, 'to an online device');
      await client.next((f) => f.type === 'message' && f.body === 'to an online device');
      const marker = await offlineSubscribed();
      await send(marker.account);
      await service.until(() => service.pushesTo(marker.subscription.id).length > 0, 'the marker wake');
      assert.deepEqual(service.pushesTo(online.subscription.id), [], 'no push while the device has a socket');
    } finally {
      client.socket.terminate();
    }
  });

  it('410 from the push service removes the target', async () => {
    const { account, subscription } = await offlineSubscribed();
    service.answerWith(subscription.id, { status: 410 });
    const before = sample(await scrape(node.url), 'courier_push_targets_removed_total', { kind: 'webpush' }) ?? 0;
    await send(account);
    await service.until(() => service.pushesTo(subscription.id).length === 1, 'the refused push');
    await eventually(async () => {
      assert.equal(sample(await scrape(node.url), 'courier_push_targets_removed_total', { kind: 'webpush' }), before + 1);
    });
    const db = new Database(join(dir, 'data', 'courier.db'), { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM push_targets WHERE user_id = ?').pluck().get(account.userId), 0);
    } finally {
      db.close();
    }
  });

  it('429 and 503 are retried with backoff, honouring Retry-After', async () => {
    const { account, subscription } = await offlineSubscribed();
    service.answerWith(subscription.id, { status: 503 }, { status: 429, headers: { 'retry-after': '1' } });
    const failedBefore = sample(await scrape(node.url), 'courier_push_notifications_failed_total', { kind: 'webpush', reason: 'retryable' }) ?? 0;
    await send(account);
    const tries = await service.until(() => {
      const seen = service.pushesTo(subscription.id);
      return seen.length === 3 && seen;
    }, 'three tries', 15_000);
    assert.deepEqual(tries.map((t) => t.status), [503, 429, 201]);
    assert.ok(tries[2]!.at - tries[1]!.at >= 1000, `the try after "Retry-After: 1" came ${tries[2]!.at - tries[1]!.at} ms later`);
    const text = await scrape(node.url);
    assert.equal(sample(text, 'courier_push_notifications_failed_total', { kind: 'webpush', reason: 'retryable' }), failedBefore + 2);
    assert.ok((sample(text, 'courier_push_notifications_sent_total', { kind: 'webpush' }) ?? 0) >= 1);
  });

  it('refuses targets on hosts not in --push-hosts and malformed keys with 400 invalid_push, changing nothing', async () => {
    const { account, subscription } = await offlineSubscribed();
    const good = webpushOf(subscription).webpush;
    const other = service.subscribe();
    const port = new URL(service.origin).port;
    const bad: Array<[string, unknown]> = [
      ['an internal host', { webpush: { ...good, endpoint: `https://localhost:${port}/push/${other.id}` } }],
      ['a cloud metadata address', { webpush: { ...good, endpoint: 'https://169.254.169.254/latest/meta-data' } }],
      ['plain http', { webpush: { ...good, endpoint: good.endpoint.replace('https:', 'http:') } }],
      ['a gateway on an internal host', { gateway: { url: 'https://10.0.0.1/notify', pushkey: 'k' } }],
      ['a p256dh of 64 bytes', { webpush: { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(64, 4).toString('base64url') } } }],
      ['a p256dh off the curve', { webpush: { ...good, keys: { ...good.keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url') } } }],
      ['an auth of 15 bytes', { webpush: { ...good, keys: { ...good.keys, auth: Buffer.alloc(15).toString('base64url') } } }],
      ['keys that are not base64url', { webpush: { ...good, keys: { p256dh: 'not base64!', auth: good.keys.auth } } }],
      ['both kinds', { ...webpushOf(other), gateway: { url: service.gatewayUrl, pushkey: 'k' } }],
      ['neither kind', {}],
    ];
    for (const [what, body] of bad) {
      const answer = await setTarget(account, body);
      assert.equal(answer.status, 400, what);
      assert.equal(answer.body.error.code, 'invalid_push', what);
      assert.ok(answer.body.error.message.length > 10, `${what}: the error says why`);
    }
    assert.equal((await call(`${node.url}/v1/devices/me/push`, 'PUT', undefined, webpushOf(other))).status, 401);
    // The first target is still the one used.
    await send(account);
    await service.until(() => service.pushesTo(subscription.id).length > 0, 'a wake to the target set first');
    assert.deepEqual(service.pushesTo(other.id), []);
  });

  it('wakes each device on its own: an offline linked device is woken while the online primary is not', async () => {
    const { account, subscription } = await offlineSubscribed();
    const primary = await WsClient.connect(node.wsUrl, account.token);
    try {
      const linked = await linkDevice(node.url, account, 'Tablet');
      const linkedTarget = { gateway: { url: service.gatewayUrl, pushkey: 'the-linked-tablet' } };
      assert.equal((await call(`${node.url}/v1/devices/me/push`, 'PUT', linked.token, linkedTarget)).status, 204);
      await send(account, 'to every device');
      await primary.next((f) => f.type === 'message' && f.body === 'to every device');
      const wake = await service.until(() => service.gatewayCalls.find((c) => c.body.pushkey === 'the-linked-tablet'), 'the linked device\'s wake');
      assert.deepEqual({ ...wake.body }, { pushkey: 'the-linked-tablet', userId: account.userId, deviceId: linked.deviceId, unread: 1 });
      const marker = await offlineSubscribed();
      await send(marker.account);
      await service.until(() => service.pushesTo(marker.subscription.id).length > 0, 'the marker wake');
      assert.deepEqual(service.pushesTo(subscription.id), [], 'the primary has a socket: no push');
    } finally {
      primary.socket.terminate();
    }
  });

  it('DELETE /v1/devices/me/push stops the wakes', async () => {
    const { account, subscription } = await offlineSubscribed();
    assert.equal((await call(`${node.url}/v1/devices/me/push`, 'DELETE', account.token)).status, 204);
    await send(account);
    const marker = await offlineSubscribed();
    await send(marker.account);
    await service.until(() => service.pushesTo(marker.subscription.id).length > 0, 'the marker wake');
    assert.deepEqual(service.pushesTo(subscription.id), []);
  });

  it('registering the phone again removes the old device\'s target', async () => {
    const { account, subscription } = await offlineSubscribed();
    await register(node.url, smsFile(), account.userId);
    await send(account);
    const marker = await offlineSubscribed();
    await send(marker.account);
    await service.until(() => service.pushesTo(marker.subscription.id).length > 0, 'the marker wake');
    assert.deepEqual(service.pushesTo(subscription.id), [], 'the old phone is not woken for the new one');
  });

  it('fires the push_failures alert when most push requests fail', async () => {
    const failing = await Promise.all(Array.from({ length: 30 }, () => offlineSubscribed()));
    for (const { subscription } of failing) service.answerWith(subscription.id, { status: 400 });
    await Promise.all(failing.map(({ account }) => send(account)));
    await service.until(() => failing.every(({ subscription }) => service.pushesTo(subscription.id).length === 1), 'the 30 refused pushes');
    await eventually(async () => {
      const health = await call(`${node.url}/healthz`, 'GET', undefined);
      assert.deepEqual(health.body, { status: 'degraded', alerts: ['push_failures'] });
    }, 10_000);
    assert.equal(sample(await scrape(node.url), 'courier_alert_firing', { alert: 'push_failures' }), 1);
  });

  it('keeps the VAPID key pair across a restart', async () => {
    const before = (await call(`${node.url}/v1/push/vapid`, 'GET', undefined)).body.publicKey;
    senderClient.socket.terminate();
    node.process.kill('SIGTERM');
    await node.exited;
    node = await spawnNode(args, env);
    senderClient = await WsClient.connect(node.wsUrl, sender.token);
    assert.equal((await call(`${node.url}/v1/push/vapid`, 'GET', undefined)).body.publicKey, before);
  });
});
