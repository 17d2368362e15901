import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { register } from './support/registration.js';
import { spawnNode } from './support/spawned-node.js';
import { WsClient } from './support/ws-client.js';

describe('durability of the embedded store', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-kill-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('loses nothing answered by sent when the process is killed with SIGKILL', { timeout: 60_000 }, async () => {
    const smsFile = join(dataDir, 'sms.jsonl');
    const args = ['--port', '0', '--data-dir', dataDir, '--sms-outbox', smsFile];
    const first = await spawnNode(args);
    const alice = await register(first.url, smsFile);
    const bob = await register(first.url, smsFile);
    const sender = await WsClient.connect(first.wsUrl, alice.token);

    const total = 300;
    for (let i = 0; i < total; i++) sender.send({ type: 'send', id: `k-${i}`, to: bob.userId, body: String(i) });
    // Kill while sends are still arriving: whatever was answered must survive.
    const answered = new Map<string, string>();
    while (answered.size < 100) {
      const sent = await sender.next((f) => f.type === 'sent');
      answered.set(sent.id, sent.serverId);
    }
    first.process.kill('SIGKILL');
    await first.exited;
    for (const frame of sender.frames) if (frame.type === 'sent') answered.set(frame.id, frame.serverId);

    const second = await spawnNode(args);
    try {
      const device = await WsClient.connect(second.wsUrl, bob.token);
      const received = new Map<string, string>();
      for (;;) {
        const frame = await device.next((f) => f.type === 'message', 3000).catch(() => undefined);
        if (frame === undefined) break;
        received.set(frame.id, frame.serverId);
      }
      for (const [id, serverId] of answered) assert.equal(received.get(id), serverId, `message ${id} answered by sent was lost`);
      const order = [...received.keys()].map((id) => Number(id.slice(2)));
      assert.deepEqual(order, [...order].sort((a, b) => a - b), 'stored messages come in send order');
      await device.close();
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
  });

  it('stops gracefully on SIGTERM, closing sockets with 1012', { timeout: 30_000 }, async () => {
    const smsFile = join(dataDir, 'sms2.jsonl');
    const node = await spawnNode(['--port', '0', '--data-dir', join(dataDir, 'graceful'), '--sms-outbox', smsFile]);
    const account = await register(node.url, smsFile);
    const client = await WsClient.connect(node.wsUrl, account.token);
    node.process.kill('SIGTERM');
    assert.equal((await client.closed).code, 1012);
    assert.equal(await node.exited, 0);
  });
});
