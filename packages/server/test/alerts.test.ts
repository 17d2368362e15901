import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { register } from './support/registration.js';
import { eventually, sample, scrape } from './support/scrape.js';
import { spawnNode, type SpawnedNode } from './support/spawned-node.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import { WsClient, type Frame } from './support/ws-client.js';

interface AlertCall {
  alert: string;
  state: 'firing' | 'resolved';
  value: number;
  threshold: number;
  node: string;
  at: number;
  user?: string;
  conn?: string;
}

/** A webhook receiver on a free port that keeps what it is sent. */
async function webhookReceiver(): Promise<{ url: string; calls: AlertCall[]; close(): Promise<void> }> {
  const calls: AlertCall[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      calls.push(JSON.parse(body) as AlertCall);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function healthz(baseUrl: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/healthz`);
  return { status: response.status, body: await response.json() };
}

/** Switches every alert off but the ones a test turns on after these (later flags win). */
const ALL_OFF = ['--alert-session-queue', '0', '--alert-node-queue', '0', '--alert-backlog-age', '0', '--alert-loop-lag', '0'];

/** Stops reading the socket: the server's pushes pile up in the kernel, nothing is acked. */
function pause(client: WsClient): void {
  (client.socket as any)._socket.pause();
}

function resume(client: WsClient): void {
  (client.socket as any)._socket.resume();
}

async function sendMany(from: WsClient, to: string, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) from.send({ type: 'send', id: `${prefix}-${i}`, to, body: `#${i}` });
  await from.take('sent', count, 10_000);
}

function ackAll(client: WsClient, frames: Frame[]): void {
  client.send({ type: 'ack', upTo: Math.max(...frames.map((f) => f.seq as number)) });
}

describe('the session queue alert', () => {
  let t: TestNode;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  before(async () => {
    hook = await webhookReceiver();
    t = await startTestNode([...ALL_OFF, '--alert-session-queue', '20', '--alert-interval', '100', '--alert-webhook', hook.url, '--log-level', 'error']);
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('fires once when a device stops reading, and resolves once when it catches up', { timeout: 30_000 }, async () => {
    assert.deepEqual((await healthz(t.url)).body, { status: 'ok' });
    const sender = await t.connectNew();
    const slow = await t.connectNew();
    pause(slow.client);
    await sendMany(sender.client, slow.account.userId, 100, 'slow');

    await eventually(async () => assert.deepEqual(await healthz(t.url), { status: 200, body: { status: 'degraded', alerts: ['session_queue'] } }));
    assert.equal(sample(await scrape(t.url), 'courier_alert_firing', { alert: 'session_queue' }), 1);
    assert.equal(sample(await scrape(t.url), 'courier_alert_firing', { alert: 'node_queue' }), 0, 'switched off');
    await eventually(async () => assert.equal(hook.calls.length, 1));
    const firing = hook.calls[0]!;
    assert.equal(firing.alert, 'session_queue');
    assert.equal(firing.state, 'firing');
    assert.equal(firing.threshold, 20);
    assert.ok(firing.value > 20 && firing.value <= 100, `value ${firing.value}`);
    assert.equal(firing.node, t.node.nodeId);
    assert.equal(firing.user, slow.account.userId);
    assert.equal(typeof firing.conn, 'string');
    assert.ok(Math.abs(firing.at - Date.now()) < 10_000);

    // Many checks later it still fires, and has told nobody again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(hook.calls.length, 1);

    resume(slow.client);
    const messages = await slow.client.take('message', 100, 10_000);
    ackAll(slow.client, messages);
    await eventually(async () => assert.deepEqual(await healthz(t.url), { status: 200, body: { status: 'ok' } }));
    assert.equal(sample(await scrape(t.url), 'courier_alert_firing', { alert: 'session_queue' }), 0);
    await eventually(async () => assert.equal(hook.calls.length, 2));
    const resolved = hook.calls[1]!;
    assert.equal(resolved.alert, 'session_queue');
    assert.equal(resolved.state, 'resolved');
    assert.equal(resolved.threshold, 20);
    assert.ok(resolved.value <= 18, `value ${resolved.value}`);
    assert.equal(resolved.user, slow.account.userId);
  });
});

describe('the node queue alert', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode([...ALL_OFF, '--alert-node-queue', '30', '--alert-interval', '100', '--log-level', 'error']);
  });
  after(() => t.stop());

  it('fires when the sessions of the node together hold too much, none of them too much alone', async () => {
    const sender = await t.connectNew();
    const a = await t.connectNew();
    const b = await t.connectNew();
    await sendMany(sender.client, a.account.userId, 20, 'a');
    await sendMany(sender.client, b.account.userId, 20, 'b');
    await eventually(async () => assert.deepEqual((await healthz(t.url)).body, { status: 'degraded', alerts: ['node_queue'] }));
    assert.equal(sample(await scrape(t.url), 'courier_alert_firing', { alert: 'node_queue' }), 1);
    ackAll(a.client, await a.client.take('message', 20));
    ackAll(b.client, await b.client.take('message', 20));
    await eventually(async () => assert.deepEqual((await healthz(t.url)).body, { status: 'ok' }));
  });
});

describe('the backlog age alert', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode([...ALL_OFF, '--alert-backlog-age', '1', '--backlog-interval', '50', '--alert-interval', '50', '--log-level', 'error']);
  });
  after(() => t.stop());

  it('fires while an undelivered event is older than the threshold', async () => {
    const sender = await t.connectNew();
    const offline = await t.register();
    sender.client.send({ type: 'send', id: 'old-1', to: offline.userId, body: 'waiting' });
    await sender.client.next((f) => f.type === 'sent');
    const sentAt = Date.now();
    await eventually(async () => assert.deepEqual((await healthz(t.url)).body, { status: 'degraded', alerts: ['backlog_age'] }));
    assert.ok(Date.now() - sentAt >= 900, 'not before the message is a second old');
    assert.ok(sample(await scrape(t.url), 'courier_backlog_oldest_age_seconds')! >= 1);

    const device = await t.connect(offline);
    ackAll(device, [await device.next((f) => f.type === 'message')]);
    ackAll(sender.client, [await sender.client.next((f) => f.type === 'receipt')]);
    await eventually(async () => assert.deepEqual((await healthz(t.url)).body, { status: 'ok' }));
  });
});

describe('the event loop lag alert', () => {
  let t: TestNode;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  before(async () => {
    hook = await webhookReceiver();
    t = await startTestNode([...ALL_OFF, '--alert-loop-lag', '300', '--alert-interval', '200', '--alert-webhook', hook.url, '--log-level', 'error']);
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('fires after the loop is blocked, and resolves when it runs freely again', { timeout: 30_000 }, async () => {
    // Start from a quiet loop: start-up work (or a loaded machine) may lag by itself.
    await eventually(async () => assert.deepEqual((await healthz(t.url)).body, { status: 'ok' }), 10_000);
    const before = hook.calls.length;
    const blockedUntil = Date.now() + 1000;
    while (Date.now() < blockedUntil) {
      // The node shares this process: spinning here blocks its loop too.
    }
    await eventually(async () => {
      const calls = hook.calls.slice(before).map((c) => [c.alert, c.state]);
      assert.deepEqual(calls.slice(0, 2), [['loop_lag', 'firing'], ['loop_lag', 'resolved']]);
    }, 10_000);
    const firing = hook.calls[before]!;
    assert.equal(firing.threshold, 300);
    assert.ok(firing.value > 300, `lag ${firing.value} ms`);
    assert.equal(firing.node, t.node.nodeId);
  });
});

describe('alerts told to a webhook that fails', () => {
  let node: SpawnedNode;
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-alerts-'));
    // A port that was just free and is closed again: the webhook refuses every call.
    const dead = await webhookReceiver();
    await dead.close();
    node = await spawnNode([
      '--port', '0', '--data-dir', dataDir, '--sms-outbox', join(dataDir, 'sms.jsonl'),
      ...ALL_OFF, '--alert-session-queue', '5', '--alert-interval', '50', '--alert-webhook', dead.url,
    ]);
  });
  after(async () => {
    node.process.kill('SIGTERM');
    await node.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs one structured warning per change, logs the failed call, and keeps serving', { timeout: 20_000 }, async () => {
    const smsFile = join(dataDir, 'sms.jsonl');
    const sender = await register(node.url, smsFile);
    const slow = await register(node.url, smsFile);
    const senderClient = await WsClient.connect(node.wsUrl, sender.token);
    const slowClient = await WsClient.connect(node.wsUrl, slow.token);
    await sendMany(senderClient, slow.userId, 10, 'w');
    await eventually(async () => assert.deepEqual((await healthz(node.url)).body, { status: 'degraded', alerts: ['session_queue'] }));
    await eventually(async () => assert.ok(logLines(node).some((l) => l.msg === 'alert webhook failed')));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const firing = logLines(node).filter((l) => l.msg === 'alert firing');
    assert.equal(firing.length, 1, 'one line, however many checks');
    assert.equal(firing[0].level, 40, 'a warning');
    assert.equal(firing[0].alert, 'session_queue');
    assert.equal(firing[0].threshold, 5);
    // It fires as soon as a check sees more than 5, maybe before all 10 are queued.
    assert.ok(firing[0].value > 5 && firing[0].value <= 10, `value ${firing[0].value}`);
    assert.equal(firing[0].user, slow.userId);
    assert.equal(typeof firing[0].conn, 'string');
    assert.equal(typeof firing[0].node, 'string');
    const failed = logLines(node).find((l) => l.msg === 'alert webhook failed');
    assert.equal(failed.alert, 'session_queue');
    assert.equal(failed.state, 'firing');

    ackAll(slowClient, await slowClient.take('message', 10));
    await eventually(async () => assert.deepEqual((await healthz(node.url)).body, { status: 'ok' }));
    await eventually(async () => assert.equal(logLines(node).filter((l) => l.msg === 'alert resolved').length, 1));
    const resolved = logLines(node).find((l) => l.msg === 'alert resolved');
    assert.equal(resolved.user, slow.userId);
    assert.equal(resolved.conn, firing[0].conn);
    senderClient.socket.terminate();
    slowClient.socket.terminate();
  });
});

function logLines(node: SpawnedNode): any[] {
  return node.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
}
