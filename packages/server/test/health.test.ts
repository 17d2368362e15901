import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase } from './support/postgres-database.js';
import { register } from './support/registration.js';
import { eventually } from './support/scrape.js';
import { spawnNode } from './support/spawned-node.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import { WsClient } from './support/ws-client.js';

async function probe(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.json() };
}

describe('/healthz and /readyz', () => {
  let t: TestNode;
  before(async () => {
    // The loop lag alert is off: a loaded test machine must not make this node degraded.
    t = await startTestNode(['--alert-loop-lag', '0']);
  });
  after(() => t.stop());

  it('answers /healthz 200 ok while the node serves', async () => {
    assert.deepEqual(await probe(`${t.url}/healthz`), { status: 200, body: { status: 'ok' } });
  });

  it('answers /readyz 200 with the store and bus checked', async () => {
    assert.deepEqual(await probe(`${t.url}/readyz`), {
      status: 200,
      body: { status: 'ready', checks: { store: 'ok', bus: 'ok', draining: 'no' } },
    });
  });
});

describe('/readyz while a node drains', () => {
  const cleanups: Array<() => Promise<void>> = [];
  // Hooks run even when a test times out, so no spawned node outlives the run.
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('answers 503 while node.stop() closes the sockets, and /healthz stays 200', async () => {
    const t = await startTestNode(['--alert-loop-lag', '0']);
    const { client } = await t.connectNew();
    // A client that reads nothing does not answer the close: draining waits for it.
    (client.socket as any)._socket.pause();
    const stopping = t.node.stop();
    try {
      const ready = await probe(`${t.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.status, 'unavailable');
      assert.equal(ready.body.checks.draining, 'yes');
      assert.deepEqual(await probe(`${t.url}/healthz`), { status: 200, body: { status: 'ok' } });
    } finally {
      await stopping;
      await t.stop();
    }
    await assert.rejects(fetch(`${t.url}/readyz`), 'stopped: nothing listens any more');
  });

  it('answers 503 after SIGTERM, until the process exits cleanly', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'courier-health-'));
    const smsFile = join(dataDir, 'sms.jsonl');
    const node = await spawnNode(['--port', '0', '--data-dir', dataDir, '--sms-outbox', smsFile]);
    let client: WsClient | undefined;
    cleanups.push(async () => {
      client?.socket.terminate();
      node.process.kill('SIGKILL');
      await node.exited;
      await rm(dataDir, { recursive: true, force: true });
    });
    const account = await register(node.url, smsFile);
    client = await WsClient.connect(node.wsUrl, account.token);
    // The paused client does not answer the close, so the drain lasts its 2 s.
    (client.socket as any)._socket.pause();
    assert.equal((await probe(`${node.url}/readyz`)).status, 200);
    node.process.kill('SIGTERM');
    const draining = await eventually(async () => {
      const ready = await probe(`${node.url}/readyz`);
      assert.equal(ready.status, 503);
      return ready;
    }, 2000, 20);
    assert.equal(draining.body.checks.draining, 'yes');
    assert.equal(await node.exited, 0);
  });
});

describe('a node that has just started', () => {
  it('answers /healthz ok and fires no alert: its own start-up is not event-loop lag', { timeout: 30_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'courier-start-'));
    // A tight lag threshold that the start-up itself (migrations, schema compilation) would pass.
    const node = await spawnNode(['--port', '0', '--data-dir', dataDir, '--alert-loop-lag', '100']);
    try {
      for (let i = 0; i < 8; i++) {
        const health = await probe(`${node.url}/healthz`);
        assert.deepEqual(health.body, { status: 'ok' }, `probe ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.deepEqual(node.output.filter((line) => line.includes('alert firing')), []);
    } finally {
      node.process.kill('SIGTERM');
      await node.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('/readyz when the store is unreachable', () => {
  it('answers 503 naming the store once its PostgreSQL database is gone', async () => {
    const db = await createTestDatabase();
    const t = await startTestNode(['--database-url', db.url, '--log-level', 'fatal', '--alert-loop-lag', '0']);
    try {
      assert.equal((await probe(`${t.url}/readyz`)).status, 200);
      // Drops the database under the node, its open connections included.
      await db.drop();
      const ready = await probe(`${t.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(ready.body.checks.store, /^unreachable: /);
      assert.equal(ready.body.checks.bus, 'ok');
      assert.equal(ready.body.checks.draining, 'no');
      assert.deepEqual(await probe(`${t.url}/healthz`), { status: 200, body: { status: 'ok' } }, 'alive, just not ready');
    } finally {
      await t.stop();
      await db.drop();
    }
  });
});
