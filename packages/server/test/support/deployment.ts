import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from './postgres-database.js';
import { startTestNode, type TestNode } from './test-node.js';

const REDIS_URL = process.env.COURIER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type DeploymentKind = 'sqlite' | 'postgres' | 'two nodes';

/**
 * Where a test's users live: one node on the embedded store, one node on PostgreSQL, or two
 * in-process nodes sharing one PostgreSQL database, one Redis (a key prefix of their own) and
 * one media directory. `first` and `second` are the same node unless there are two.
 */
export interface Deployment {
  first: TestNode;
  second: TestNode;
  stop(): Promise<void>;
}

export async function deploy(kind: DeploymentKind, extraArgs: string[] = []): Promise<Deployment> {
  if (kind === 'sqlite') {
    const node = await startTestNode(extraArgs);
    return { first: node, second: node, stop: () => node.stop() };
  }
  const database = await createTestDatabase();
  const shared = ['--database-url', database.url, ...extraArgs];
  if (kind === 'postgres') {
    const node = await startTestNode(shared);
    return { first: node, second: node, stop: async () => {
      await node.stop();
      await database.drop();
    } };
  }
  const media = await mkdtemp(join(tmpdir(), 'courier-media-'));
  const cluster = [...shared, '--redis-url', REDIS_URL, '--redis-prefix', `courier-test-${randomBytes(4).toString('hex')}:`, '--data-dir', media];
  const first = await startTestNode(cluster);
  const second = await startTestNode(cluster);
  return {
    first,
    second,
    async stop() {
      await Promise.all([first.stop(), second.stop()]);
      await database.drop();
      await rm(media, { recursive: true, force: true });
    },
  };
}
