import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './cluster.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;

/** One `redis-server --cluster-enabled yes` of the test's cluster. */
interface ClusterServer {
  port: number;
  process: ChildProcess;
  exited: Promise<void>;
  output: string[];
}

/**
 * A real Redis Cluster on this machine, for one test file: `masters` masters with `replicas`
 * replicas each, on free ports with a temp dir of their own (no persistence), joined with
 * `redis-cli --cluster create`. `stop()` kills every server and removes the dir.
 */
export class RedisClusterServers {
  private constructor(
    readonly servers: ClusterServer[],
    private readonly dir: string,
  ) {}

  static async start(options: { masters?: number; replicas?: number } = {}): Promise<RedisClusterServers> {
    const masters = options.masters ?? 3;
    const replicas = options.replicas ?? 0;
    const dir = await mkdtemp(join(tmpdir(), 'courier-redis-cluster-'));
    const cluster = new RedisClusterServers([], dir);
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) cluster.servers.push(await startServer(dir));
      await Promise.all(cluster.servers.map((server) => waitFor(`redis on ${server.port}`, () => cluster.command(server.port, 'PING').then((r) => r === 'PONG'))));
      await run('redis-cli', ['--cluster', 'create', ...cluster.servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
      await cluster.waitUntilHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw new Error(`Redis Cluster did not start: ${(err as Error).message}\n${cluster.output()}`, { cause: err });
    }
  }

  /** The seeds as Courier's `--redis-url` takes them. */
  get url(): string {
    return `redis+cluster://${this.servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`;
  }

  /**
   * A manual failover (CLUSTER FAILOVER on a replica) of the master that holds `key`: the
   * replica catches up with its master, then they swap roles, with no write lost. Resolves once
   * every node agrees and the cluster is healthy again; answers the old and new master's ports.
   */
  async failOver(key: string): Promise<{ from: number; to: number }> {
    const any = this.servers[0]!.port;
    const slot = Number(await this.command(any, 'CLUSTER', 'KEYSLOT', key));
    const ranges = (await this.command(any, 'CLUSTER', 'SLOTS')) as [number, number, ...[string, number, string][]][];
    const range = ranges.find(([first, last]) => slot >= first && slot <= last);
    const [, , master, replica] = range ?? [];
    if (master === undefined || replica === undefined) throw new Error(`no replica serves slot ${slot}`);
    await this.command(replica[1], 'CLUSTER', 'FAILOVER');
    await waitFor(`${replica[1]} to become master`, async () => ((await this.command(replica[1], 'ROLE')) as string[])[0] === 'master');
    await this.waitUntilHealthy();
    return { from: master[1], to: replica[1] };
  }

  async stop(): Promise<void> {
    for (const server of this.servers) server.process.kill('SIGKILL');
    await Promise.all(this.servers.map((server) => server.exited));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Every node's state and its replicas' links, for failure messages. */
  output(): string {
    return this.servers.map((s) => `--- redis ${s.port}\n${s.output.slice(-20).join('\n')}`).join('\n');
  }

  /** One command to one server, on a connection of its own. */
  async command(port: number, name: string, ...args: (string | number)[]): Promise<unknown> {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // A refused connection rejects connect() below; the event would only repeat it.
    redis.on('error', () => {});
    try {
      await redis.connect();
      return await redis.call(name, ...args);
    } finally {
      redis.disconnect();
    }
  }

  /** Every node sees every other, all slots served, and every replica in sync with its master. */
  private async waitUntilHealthy(): Promise<void> {
    for (const { port } of this.servers) {
      await waitFor(`the cluster as seen from ${port}`, async () => {
        const info = String(await this.command(port, 'CLUSTER', 'INFO'));
        const replication = String(await this.command(port, 'INFO', 'replication'));
        return (
          info.includes('cluster_state:ok') &&
          info.includes(`cluster_known_nodes:${this.servers.length}`) &&
          (replication.includes('role:master') || replication.includes('master_link_status:up'))
        );
      });
    }
  }
}

async function startServer(dir: string): Promise<ClusterServer> {
  const port = await freePort();
  const busPort = await freePort();
  const home = join(dir, String(port));
  await mkdir(home);
  const child = spawn(
    'redis-server',
    [
      '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
      '--dir', home, '--save', '', '--appendonly', 'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(...chunk.toString().trimEnd().split('\n')));
  child.stderr!.on('data', (chunk: Buffer) => output.push(...chunk.toString().trimEnd().split('\n')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { port, process: child, exited, output };
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
