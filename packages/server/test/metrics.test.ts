import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import { CourierError } from '../src/domain/errors.js';
import { NodeMetrics } from '../src/observability/metrics.js';
import { TimedStore } from '../src/observability/timed-store.js';
import { eventually, sample, scrape } from './support/scrape.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import { WsClient } from './support/ws-client.js';

describe('GET /metrics', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--backlog-interval', '50']);
  });
  after(() => t.stop());

  it('answers Prometheus text without auth', async () => {
    const response = await fetch(`${t.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of [
      'courier_open_sockets',
      'courier_authenticated_sessions',
      'courier_outbound_queue_events',
      'courier_session_queue_max_events',
      'courier_backlog_events',
      'courier_backlog_oldest_age_seconds',
      'courier_messages_sent_total',
      'courier_messages_delivered_total',
      'courier_messages_read_total',
      'courier_bus_errors_total',
      'courier_event_loop_lag_seconds',
      'courier_event_loop_lag_max_seconds',
    ]) {
      assert.equal(typeof sample(text, name), 'number', `${name} is exported`);
    }
    assert.match(text, /^# TYPE courier_send_seconds histogram$/m);
    assert.match(text, /^# TYPE courier_push_delay_seconds histogram$/m);
    assert.match(text, /^# TYPE courier_store_commit_seconds histogram$/m);
    assert.match(text, /^# TYPE courier_store_errors_total counter$/m);
    assert.equal(sample(text, 'courier_alert_firing', { alert: 'session_queue' }), 0);
  });

  it('exports every metric that deploy/prometheus-alerts.yml alerts on', async () => {
    const rules = await readFile(new URL('../../../../deploy/prometheus-alerts.yml', import.meta.url), 'utf8');
    const used = new Set([...rules.matchAll(/\b(courier_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
    assert.ok(used.size >= 8);
    const text = await scrape(t.url);
    for (const name of used) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
  });

  it('counts open sockets and authenticated sessions apart', async () => {
    const before = await scrape(t.url);
    const anonymous = await WsClient.open(t.wsUrl);
    const { client } = await t.connectNew();
    await eventually(async () => {
      const text = await scrape(t.url);
      assert.equal(sample(text, 'courier_open_sockets'), sample(before, 'courier_open_sockets')! + 2);
      assert.equal(sample(text, 'courier_authenticated_sessions'), sample(before, 'courier_authenticated_sessions')! + 1);
    });
    anonymous.socket.terminate();
    await client.close();
    await eventually(async () => {
      const text = await scrape(t.url);
      assert.equal(sample(text, 'courier_open_sockets'), sample(before, 'courier_open_sockets'));
      assert.equal(sample(text, 'courier_authenticated_sessions'), sample(before, 'courier_authenticated_sessions'));
    });
  });

  it('counts messages sent, delivered and read, and times sends, pushes and commits', async () => {
    const before = await scrape(t.url);
    const delta = (text: string, name: string, labels?: Record<string, string>) => (sample(text, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    for (let i = 0; i < 3; i++) alice.client.send({ type: 'send', id: `m-${i}`, to: bob.account.userId, body: `#${i}` });
    alice.client.send({ type: 'send', id: 'm-0', to: bob.account.userId, body: '#0 again' });
    await alice.client.take('sent', 4);
    const messages = await bob.client.take('message', 3);
    bob.client.send({ type: 'ack', upTo: messages[2]!.seq });
    await alice.client.next((f) => f.type === 'receipt' && f.status === 'delivered');
    bob.client.send({ type: 'read', serverIds: [messages[0]!.serverId, messages[1]!.serverId] });
    await alice.client.next((f) => f.type === 'receipt' && f.status === 'read');

    const text = await scrape(t.url);
    assert.equal(delta(text, 'courier_messages_sent_total'), 3, 'a repeated client id is not a new message');
    assert.equal(delta(text, 'courier_messages_delivered_total'), 3);
    assert.equal(delta(text, 'courier_messages_read_total'), 2);
    assert.equal(delta(text, 'courier_send_seconds_count'), 4, 'every sent answer is timed');
    assert.equal(delta(text, 'courier_push_delay_seconds_count'), 3, 'every message pushed is timed');
    assert.ok(delta(text, 'courier_push_delay_seconds_bucket', { le: '+Inf' }) === 3);
    assert.equal(delta(text, 'courier_store_commit_seconds_count', { op: 'sendMessage' }), 4);
    assert.equal(delta(text, 'courier_store_commit_seconds_count', { op: 'ackUpTo' }), 1);
    assert.equal(delta(text, 'courier_store_commit_seconds_count', { op: 'markRead' }), 1);
    assert.ok(delta(text, 'courier_store_commit_seconds_sum', { op: 'sendMessage' }) > 0);
  });

  it('shows the outbound queues of this node: the total and the longest', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    const carol = await t.connectNew();
    const base = await scrape(t.url);
    for (let i = 0; i < 5; i++) alice.client.send({ type: 'send', id: `q-${i}`, to: bob.account.userId, body: `#${i}` });
    for (let i = 0; i < 2; i++) alice.client.send({ type: 'send', id: `r-${i}`, to: carol.account.userId, body: `#${i}` });
    await bob.client.take('message', 5);
    await carol.client.take('message', 2);
    const text = await scrape(t.url);
    // Pushed but not acked still counts: the device has not confirmed it.
    assert.equal(sample(text, 'courier_outbound_queue_events'), sample(base, 'courier_outbound_queue_events')! + 7);
    assert.ok(sample(text, 'courier_session_queue_max_events')! >= 5);

    // Acks empty the queues, and the receipts they give alice are queued until she acks them.
    bob.client.send({ type: 'ack', upTo: Number.MAX_SAFE_INTEGER });
    carol.client.send({ type: 'ack', upTo: Number.MAX_SAFE_INTEGER });
    await alice.client.take('receipt', 2);
    assert.equal(sample(await scrape(t.url), 'courier_outbound_queue_events'), sample(base, 'courier_outbound_queue_events')! + 2);
    alice.client.send({ type: 'ack', upTo: Number.MAX_SAFE_INTEGER });
    await eventually(async () => {
      assert.equal(sample(await scrape(t.url), 'courier_outbound_queue_events'), sample(base, 'courier_outbound_queue_events'));
    });
  });

  it('samples the stored backlog: undelivered events and the age of the oldest', async () => {
    // A node of its own: the shared node's backlog still moves with the acks of the tests before.
    const node = await startTestNode(['--backlog-interval', '50']);
    try {
      const alice = await node.connectNew();
      const offline = await node.register();
      for (let i = 0; i < 4; i++) alice.client.send({ type: 'send', id: `b-${i}`, to: offline.userId, body: `#${i}` });
      await alice.client.take('sent', 4);
      await eventually(async () => {
        const text = await scrape(node.url);
        assert.equal(sample(text, 'courier_backlog_events'), 4);
        assert.ok(sample(text, 'courier_backlog_oldest_age_seconds')! > 0);
      });
      const device = await node.connect(offline);
      const messages = await device.take('message', 4);
      device.send({ type: 'ack', upTo: messages[3]!.seq });
      const receipt = await alice.client.next((f) => f.type === 'receipt');
      alice.client.send({ type: 'ack', upTo: receipt.seq });
      await eventually(async () => {
        assert.equal(sample(await scrape(node.url), 'courier_backlog_events'), 0);
      });
    } finally {
      await node.stop();
    }
  });

  it('keeps each node\'s metrics apart when nodes share a process', async () => {
    const other = await startTestNode();
    try {
      const mine = sample(await scrape(t.url), 'courier_messages_sent_total')!;
      const alice = await other.connectNew();
      const bob = await other.register();
      alice.client.send({ type: 'send', id: 'x-1', to: bob.userId, body: 'elsewhere' });
      await alice.client.next((f) => f.type === 'sent');
      assert.equal(sample(await scrape(other.url), 'courier_messages_sent_total'), 1);
      assert.equal(sample(await scrape(t.url), 'courier_messages_sent_total'), mine);
    } finally {
      await other.stop();
    }
  });
});

describe('TimedStore', () => {
  it('counts failures of the store by operation, but not the refusals it passes on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'courier-timed-'));
    const metrics = new NodeMetrics();
    const store = new TimedStore(new SqliteStore({ file: join(dir, 'courier.db') }), metrics);
    try {
      await store.init();
      const group = { groupId: 'g_metrics', name: 'g', members: ['+15550000001'], admins: ['+15550000001'], createdAt: 1 };
      await store.createGroup(group, []);
      await assert.rejects(
        store.changeGroup('g_metrics', () => {
          throw new CourierError('not_admin', 'refused');
        }),
        CourierError,
      );
      await store.close();
      await assert.rejects(store.ping());
      await assert.rejects(store.lastSeq({ userId: '+15550000001', deviceId: 1 }));
      const text = (await metrics.render()).text;
      assert.equal(sample(text, 'courier_store_errors_total', { op: 'ping' }), 1);
      assert.equal(sample(text, 'courier_store_errors_total', { op: 'lastSeq' }), 1);
      assert.equal(sample(text, 'courier_store_errors_total', { op: 'changeGroup' }), undefined);
      assert.equal(sample(text, 'courier_store_commit_seconds_count', { op: 'createGroup' }), 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
