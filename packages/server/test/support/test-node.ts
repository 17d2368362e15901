import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions, startNode, type CourierNode, type NodeOverrides } from '../../src/index.js';
import { createTestDatabase } from './postgres-database.js';
import { register, type Account } from './registration.js';
import { WsClient } from './ws-client.js';

export interface TestNode {
  node: CourierNode;
  url: string;
  wsUrl: string;
  dataDir: string;
  smsFile: string;
  register(phone?: string): Promise<Account>;
  /** Registers a user and connects its device. */
  connectNew(): Promise<{ account: Account; client: WsClient }>;
  connect(account: Account): Promise<WsClient>;
  stop(): Promise<void>;
}

/** A real node listening on a free port, in-process, with a data dir of its own. */
export async function startTestNode(extraArgs: string[] = [], env: Record<string, string> = {}, overrides: NodeOverrides = {}): Promise<TestNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-test-'));
  const smsFile = join(dataDir, 'sms.jsonl');
  const options = parseOptions(['--port', '0', '--data-dir', dataDir, '--sms-outbox', smsFile, '--log-level', 'warn', ...extraArgs], env);
  const node = await startNode(options, overrides);
  const wsUrl = `${node.url.replace(/^http/, 'ws')}/v1/ws`;
  const clients: WsClient[] = [];
  const connect = async (account: Account) => {
    const client = await WsClient.connect(wsUrl, account.token);
    clients.push(client);
    return client;
  };
  return {
    node,
    url: node.url,
    wsUrl,
    dataDir,
    smsFile,
    register: (phone) => register(node.url, smsFile, phone),
    connect,
    async connectNew() {
      const account = await register(node.url, smsFile);
      return { account, client: await connect(account) };
    },
    async stop() {
      for (const client of clients) client.socket.terminate();
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type Backend = 'sqlite' | 'postgres';

/** A test node on the embedded store, or on a PostgreSQL database of its own (dropped on stop). */
export async function startTestNodeOn(backend: Backend, extraArgs: string[] = [], overrides: NodeOverrides = {}): Promise<TestNode> {
  if (backend === 'sqlite') return startTestNode(extraArgs, {}, overrides);
  const database = await createTestDatabase();
  const node = await startTestNode(['--database-url', database.url, ...extraArgs], {}, overrides);
  return {
    ...node,
    async stop() {
      await node.stop();
      await database.drop();
    },
  };
}
