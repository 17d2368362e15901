import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { directoryKey } from '../../src/adapters/bus/redis/redis-bus.js';
import { createTestDatabase } from './postgres-database.js';
import { register, type Account } from './registration.js';
import { spawnNode, type SpawnedNode } from './spawned-node.js';
import { WsClient } from './ws-client.js';

/** The HAProxy configuration the repo ships; the cluster runs it with its ports rewritten. */
export const haproxyTemplate = fileURLToPath(new URL('../../../../../deploy/haproxy.cfg', import.meta.url));

const REDIS_URL = process.env.COURIER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Name of the backend in deploy/haproxy.cfg. */
const BACKEND = 'courier_nodes';
const STOP_TIMEOUT_MS = 15_000;

export interface ClusterOptions {
  /** Nodes behind HAProxy (default 3). */
  nodes?: number;
  /** Extra `courier serve` flags for every node. */
  args?: string[];
}

/** One `courier serve` process of the cluster; its port stays the same across restarts. */
export class ClusterNode {
  spawned: SpawnedNode | undefined;

  constructor(
    readonly name: string,
    public port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/v1/ws`;
  }

  get running(): boolean {
    return this.spawned !== undefined;
  }
}

/**
 * A real cluster on this machine: N `courier serve` processes on one fresh PostgreSQL database
 * and Redis (under a key prefix of its own: pub/sub channels ignore Redis's database numbers),
 * each with a data dir of its own (media live in PostgreSQL: the nodes share no disk), one SMS
 * outbox (the test's phone), and a real HAProxy in front running
 * deploy/haproxy.cfg with free ports. Nodes can be stopped (SIGTERM), killed (SIGKILL) and
 * started again on their port.
 */
export class Cluster {
  readonly nodes: ClusterNode[] = [];
  readonly redis: Redis;
  private haproxy: ChildProcess | undefined;
  private haproxyExited: Promise<void> = Promise.resolve();
  readonly haproxyOutput: string[] = [];
  private lbPort = 0;
  private statsPort = 0;
  /** Test sockets, terminated before the nodes stop so that no test leaves one open. */
  private readonly clients: WsClient[] = [];

  private constructor(
    readonly databaseUrl: string,
    private readonly dropDatabase: () => Promise<void>,
    readonly redisPrefix: string,
    readonly dir: string,
    private readonly extraArgs: string[],
  ) {
    this.redis = new Redis(REDIS_URL);
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const database = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'courier-cluster-'));
    const prefix = `courier-test-${randomBytes(6).toString('hex')}:`;
    const cluster = new Cluster(database.url, () => database.drop(), prefix, dir, options.args ?? []);
    try {
      const count = options.nodes ?? 3;
      for (let i = 1; i <= count; i++) cluster.nodes.push(new ClusterNode(`node${i}`, 0));
      // Together, as an operator would: the first to take the migration lock migrates.
      await Promise.all(cluster.nodes.map((node) => cluster.startNode(node)));
      await cluster.startHaproxy();
      for (const node of cluster.nodes) await cluster.waitForBalancer(node, 'UP');
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  /** HAProxy's address: what clients use. */
  get url(): string {
    return `http://127.0.0.1:${this.lbPort}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.lbPort}/v1/ws`;
  }

  /** The node's own data dir: no other node sees it. */
  dataDirOf(node: ClusterNode): string {
    return join(this.dir, `data-${node.name}`);
  }

  get smsFile(): string {
    return join(this.dir, 'sms.jsonl');
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no ${name} in the cluster`);
    return node;
  }

  /** Registers a new account through `baseUrl` (default: through HAProxy). */
  register(baseUrl = this.url, phone?: string): Promise<Account> {
    return register(baseUrl, this.smsFile, phone);
  }

  /** Starts the node's process (again), on its port once it has one. */
  async startNode(node: ClusterNode): Promise<void> {
    if (node.spawned !== undefined) throw new Error(`${node.name} is already running`);
    const spawned = await spawnNode([
      '--port', String(node.port),
      '--host', '127.0.0.1',
      '--database-url', this.databaseUrl,
      '--redis-url', REDIS_URL,
      '--trust-proxy',
      '--redis-prefix', this.redisPrefix,
      '--node-id', node.name,
      '--data-dir', this.dataDirOf(node),
      '--sms-outbox', this.smsFile,
      ...this.extraArgs,
    ]);
    node.spawned = spawned;
    node.port = Number(new URL(spawned.url).port);
    void spawned.exited.then(() => {
      if (node.spawned === spawned) node.spawned = undefined;
    });
  }

  /** SIGTERM (graceful stop); resolves with the exit code once the process is gone. */
  async stopNode(node: ClusterNode): Promise<number | string> {
    const spawned = node.spawned;
    if (spawned === undefined) throw new Error(`${node.name} is not running`);
    spawned.process.kill('SIGTERM');
    const timer = setTimeout(() => spawned.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await spawned.exited;
    clearTimeout(timer);
    return code;
  }

  /** `kill -9`: the node vanishes with its sockets and leaves its directory entries to expire. */
  async killNode(node: ClusterNode): Promise<void> {
    const spawned = node.spawned;
    if (spawned === undefined) throw new Error(`${node.name} is not running`);
    spawned.process.kill('SIGKILL');
    await spawned.exited;
  }

  /** The node holding the device's socket (the user's primary unless told), by the cluster's directory in Redis. */
  async holderOf(userId: string, deviceId = 1): Promise<ClusterNode | undefined> {
    const holder = await this.redis.get(directoryKey(this.redisPrefix, { userId, deviceId }));
    if (holder === null) return undefined;
    return this.node(holder.slice(0, holder.indexOf('|')));
  }

  /** The directory entries naming `node`: the devices Redis believes it holds. */
  async directoryEntriesOf(node: ClusterNode): Promise<string[]> {
    const named: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.redisPrefix}dev:*`, 'COUNT', 1000);
      cursor = next;
      const values = keys.length === 0 ? [] : await this.redis.mget(keys);
      keys.forEach((key, i) => {
        if (values[i]?.startsWith(`${node.name}|`)) named.push(key);
      });
    } while (cursor !== '0');
    return named;
  }

  /** Unacked events per inbox, straight from PostgreSQL (for failure messages). */
  async inboxes(): Promise<{ user_id: string; events: number; first: number; last: number }[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ user_id: string; events: number; first: number; last: number }>(
        'SELECT user_id, count(*)::int AS events, min(seq)::int AS first, max(seq)::int AS last FROM inbox GROUP BY user_id ORDER BY user_id',
      );
      return rows;
    } finally {
      await client.end();
    }
  }

  /** Each server's state as HAProxy's checks see it: `UP`, `DOWN`, `UP 1/2` (going down), ... */
  async balancerStatus(): Promise<Map<string, string>> {
    const response = await fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`);
    if (response.status !== 200) throw new Error(`HAProxy stats answered ${response.status}`);
    const [header, ...rows] = (await response.text()).trim().split('\n');
    const columns = header!.replace(/^# /, '').split(',');
    const px = columns.indexOf('pxname');
    const sv = columns.indexOf('svname');
    const status = columns.indexOf('status');
    const out = new Map<string, string>();
    for (const row of rows) {
      const cells = row.split(',');
      if (cells[px] === BACKEND && cells[sv] !== 'BACKEND') out.set(cells[sv]!, cells[status]!);
    }
    return out;
  }

  /** Waits until HAProxy's checks settle on `state` for the node. */
  async waitForBalancer(node: ClusterNode, state: 'UP' | 'DOWN', timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined;
    for (;;) {
      last = (await this.balancerStatus()).get(node.name);
      if (last === state) return;
      if (Date.now() > deadline) throw new Error(`HAProxy still sees ${node.name} as ${last} after ${timeoutMs} ms, not ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Output of the nodes and HAProxy, for failure messages. */
  output(): string {
    const nodes = this.nodes.map((node) => `--- ${node.name}\n${(node.spawned?.output ?? []).slice(-30).join('\n')}`);
    return [...nodes, `--- haproxy\n${this.haproxyOutput.slice(-30).join('\n')}`].join('\n');
  }

  /** An authenticated socket of `account` on a node (or on the balancer), closed by `close()`. */
  async connect(where: { wsUrl: string }, account: { token: string }): Promise<WsClient> {
    return this.track(await WsClient.connect(where.wsUrl, account.token))[0]!;
  }

  /** Hands sockets the test opened itself to `close()`. */
  track(...clients: WsClient[]): WsClient[] {
    this.clients.push(...clients);
    return clients;
  }

  /** Closes the test sockets, stops HAProxy and every node, and removes the database, the Redis keys and the files. */
  async close(): Promise<void> {
    for (const client of this.clients) client.socket.terminate();
    if (this.haproxy !== undefined) {
      this.haproxy.kill('SIGTERM');
      await this.haproxyExited;
    }
    await Promise.all(this.nodes.filter((node) => node.running).map((node) => this.stopNode(node)));
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.redis.quit();
    await this.dropDatabase();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startHaproxy(): Promise<void> {
    this.lbPort = await freePort();
    this.statsPort = await freePort();
    const config = haproxyConfig(await readFile(haproxyTemplate, 'utf8'), {
      frontendPort: this.lbPort,
      statsPort: this.statsPort,
      servers: this.nodes.map((node) => ({ name: node.name, port: node.port })),
    });
    const file = join(this.dir, 'haproxy.cfg');
    await writeFile(file, config);
    const child = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.haproxy = child;
    // A haproxy that never started (not installed) has no exit to wait for: close() must not hang on it.
    this.haproxyExited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const remember = (line: string) => {
      this.haproxyOutput.push(line);
      if (this.haproxyOutput.length > 500) this.haproxyOutput.shift();
    };
    createInterface({ input: child.stdout! }).on('line', remember);
    createInterface({ input: child.stderr! }).on('line', remember);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      void this.haproxyExited.then(() => reject(new Error(`haproxy exited:\n${this.haproxyOutput.join('\n')}`)));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answered = await Promise.race([
        fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`).then((r) => r.status === 200, () => false),
        failed,
      ]);
      if (answered) return;
      if (Date.now() > deadline) throw new Error(`haproxy did not listen within 10 s:\n${this.haproxyOutput.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * deploy/haproxy.cfg with other ports: its two `bind` lines and its server list (the last lines of
 * the file) rewritten. Fails if the file lost the shape this relies on.
 */
export function haproxyConfig(
  template: string,
  ports: { frontendPort: number; statsPort: number; servers: { name: string; port: number }[] },
): string {
  const replace = (text: string, from: RegExp, to: string) => {
    if (!from.test(text)) throw new Error(`deploy/haproxy.cfg has no line matching ${from}`);
    return text.replace(from, to);
  };
  let config = replace(template, /^(\s*bind\s+)127\.0\.0\.1:8080\s*$/m, `$1127.0.0.1:${ports.frontendPort}`);
  config = replace(config, /^(\s*bind\s+)127\.0\.0\.1:8404\s*$/m, `$1127.0.0.1:${ports.statsPort}`);
  const sections = [...template.matchAll(/^(global|defaults|frontend|backend|listen)\b.*$/gm)];
  if (sections.at(-1)?.[0].trim() !== `backend ${BACKEND}`) throw new Error(`deploy/haproxy.cfg must end with the ${BACKEND} backend`);
  const servers = /^\s*server\s+node\d+\s+127\.0\.0\.1:\d+\s+(.*)$/gm;
  const options = servers.exec(config)?.[1];
  if (options === undefined) throw new Error('deploy/haproxy.cfg has no server lines');
  config = config.replace(servers, '').trimEnd();
  const lines = ports.servers.map((s) => `    server ${s.name} 127.0.0.1:${s.port} ${options}`);
  return `${config}\n${lines.join('\n')}\n`;
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
