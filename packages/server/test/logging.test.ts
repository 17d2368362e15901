import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { register } from './support/registration.js';
import { eventually } from './support/scrape.js';
import { spawnNode, type SpawnedNode } from './support/spawned-node.js';
import { WsClient } from './support/ws-client.js';

type LogLine = Record<string, any>;

/** The JSON lines a node wrote; the one plain `courier listening on` line is not a log line. */
function logLines(node: SpawnedNode): LogLine[] {
  return node.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

describe('logs', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** Spawns `courier serve` at a log level, and registers, connects and disconnects one device. */
  async function oneConnection(level: string): Promise<{ node: SpawnedNode; userId: string }> {
    const dataDir = await mkdtemp(join(tmpdir(), 'courier-logs-'));
    const smsFile = join(dataDir, 'sms.jsonl');
    const node = await spawnNode(['--port', '0', '--data-dir', dataDir, '--sms-outbox', smsFile, '--log-level', level]);
    cleanups.push(async () => {
      node.process.kill('SIGTERM');
      await node.exited;
      await rm(dataDir, { recursive: true, force: true });
    });
    const account = await register(node.url, smsFile);
    const client = await WsClient.connect(node.wsUrl, account.token);
    client.send({ type: 'ping' });
    await client.next((f) => f.type === 'pong');
    await client.close();
    return { node, userId: account.userId };
  }

  it('at info: JSON lines, each naming the node; a connection\'s lines name conn and user', { timeout: 30_000 }, async () => {
    const { node, userId } = await oneConnection('info');
    await eventually(async () => assert.ok(logLines(node).some((l) => l.msg === 'connection closed' && l.user === userId)));
    const lines = logLines(node);
    const nodeId = lines.find((l) => l.msg === 'node started')?.node;
    assert.equal(typeof nodeId, 'string');
    for (const line of lines) {
      assert.equal(line.node, nodeId, `node on ${JSON.stringify(line)}`);
      assert.equal(typeof line.time, 'string');
      assert.equal(typeof line.level, 'number');
    }

    const authenticated = lines.find((l) => l.msg === 'authenticated' && l.user === userId);
    assert.ok(authenticated, 'the authentication is logged');
    const conn = authenticated.conn as string;
    assert.match(conn, /^[0-9a-z]{12}[0-9a-f]{12}$/);
    const aboutIt = lines.filter((l) => l.conn === conn);
    assert.deepEqual(aboutIt.map((l) => l.msg), ['authenticated', 'connection closed']);
    for (const line of aboutIt) {
      assert.equal(line.user, userId, `user on ${JSON.stringify(line)}`);
      assert.equal(line.node, nodeId);
    }
    assert.equal(aboutIt[1]!.code, 1005, 'the close code the client sent (none)');
  });

  it('at warn: none of the info lines', { timeout: 30_000 }, async () => {
    const { node } = await oneConnection('warn');
    // The session logs its close asynchronously; give it the time it took at info.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(logLines(node).filter((l) => l.level < 40), []);
  });

  it('at debug: the HTTP requests too', { timeout: 30_000 }, async () => {
    const { node } = await oneConnection('debug');
    await eventually(async () => assert.ok(logLines(node).some((l) => l.msg === 'connection closed')));
    const requests = logLines(node).filter((l) => l.msg === 'incoming request');
    assert.ok(requests.some((l) => l.req?.url === '/v1/register/verify'), 'the verify request is logged');
    for (const line of requests) assert.equal(typeof line.node, 'string');
  });
});
