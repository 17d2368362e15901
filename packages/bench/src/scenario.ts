import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Anomalies } from './anomalies.js';
import type { AckPolicy } from './bench-socket.js';
import type { Contention } from './contention.js';
import { summariseProfileFile, type ProfileSummary } from './cpu-profile.js';
import type { BenchOptions, ScenarioName } from './options.js';
import { readProcCpuMs, readSchedStat, type SchedStat } from './proc-status.js';
import { profilesIn, ServerProcess } from './server-process.js';
import { ServerDatabase } from './server-database.js';
import { startWorkers, stopWorkers, type WorkerHandle } from './worker-pool.js';

/** One line of the results table. */
export interface Metric {
  label: string;
  value: number;
  unit: string;
  /** The target it is judged against, if any, and whether it was met. */
  target?: { text: string; met: boolean };
}

export interface ScenarioResult {
  name: ScenarioName;
  title: string;
  metrics: Metric[];
  /** Everything measured, for the JSON file. */
  details: Record<string, unknown>;
  anomalies: { count: number; samples: string[] };
  /** The server's main thread; `threadProfiles` holds its worker threads' (the SQLite store's). */
  profile?: ProfileSummary;
  threadProfiles?: ProfileSummary[];
  /** Why the scenario could not run or finish, if it did not. */
  error?: string;
  serverCommand?: string[];
  /** How busy the machine was before and after: other work on it skews the results. */
  contention?: { before: Contention; after: Contention };
}

/** What every scenario gets from the runner. */
export class BenchContext {
  /** Set by the throughput scenario, for the latency scenario's half load. */
  maxThroughput: number | undefined;

  constructor(
    readonly options: BenchOptions,
    readonly profileRoot: string,
  ) {}

  get ack(): AckPolicy {
    return { every: this.options.ackEvery, delayMs: this.options.ackDelayMs };
  }

  log(line: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  }

  /** A fresh server (its own data directory, and database when --postgres) for one scenario, under the profiler if asked. */
  async startServer(scenario: ScenarioName, extraArgs: string[] = []): Promise<ServerProcess> {
    let profileDir: string | undefined;
    if (this.options.profile) {
      profileDir = join(this.profileRoot, scenario);
      await mkdir(profileDir, { recursive: true });
    }
    const database = this.options.postgres === undefined ? undefined : await ServerDatabase.create(this.options.postgres);
    const sharedArgs = [
      ...(database === undefined ? [] : ['--database-url', database.url]),
      ...(this.options.redisUrl === undefined ? [] : ['--redis-url', this.options.redisUrl, '--redis-prefix', `courier-bench-${Date.now()}:`]),
    ];
    try {
      const server = await ServerProcess.start({
        sqliteSync: this.options.sqliteSync,
        logLevel: this.options.serverLogLevel,
        extraArgs: [...sharedArgs, ...extraArgs],
        ...(this.options.serverCheckout !== undefined && { checkout: this.options.serverCheckout }),
        ...(profileDir !== undefined && { profileDir }),
        ...(database !== undefined && { onStopped: () => database.drop() }),
      });
      this.log(`${scenario}: server pid ${server.pid} at ${server.url}${profileDir ? ` (profiling into ${profileDir})` : ''}`);
      return server;
    } catch (err) {
      await database?.drop();
      throw err;
    }
  }

  /** Stops the server gracefully and, when profiling, summarises the profiles it wrote (one per thread). */
  async stopServer(scenario: ScenarioName, server: ServerProcess): Promise<ProfileSummary[]> {
    await server.stop();
    if (!this.options.profile) return [];
    const files = await profilesIn(join(this.profileRoot, scenario), server.pid);
    if (files.length === 0) {
      this.log(`${scenario}: the server wrote no CPU profile (did it stop gracefully? ${server.exitReason})`);
      return [];
    }
    return Promise.all(files.map((file) => summariseProfileFile(file)));
  }
}

/**
 * Where the server's event-loop thread spent a stretch of wall time: on a CPU, runnable but
 * waiting for one (other work on the machine), or neither (blocked in a syscall such as fsync,
 * or idle in epoll). Shares of the wall time, 0..1.
 */
export interface MainThreadShares {
  onCpu: number;
  waitingForCpu: number;
  blockedOrIdle: number;
}

export class ServerCpuMeter {
  private constructor(
    private readonly server: ServerProcess,
    private readonly cpuMs: number,
    private readonly sched: SchedStat,
    private readonly started: number,
  ) {}

  static async start(server: ServerProcess): Promise<ServerCpuMeter> {
    return new ServerCpuMeter(server, await readProcCpuMs(server.pid), await readSchedStat(server.pid), performance.now());
  }

  /** CPU of the whole process (all threads) in cores, and the main thread's shares. */
  async stop(): Promise<{ serverCores: number; mainThread: MainThreadShares; ms: number }> {
    const ms = performance.now() - this.started;
    if (this.server.exitReason !== undefined) return { serverCores: Number.NaN, mainThread: { onCpu: Number.NaN, waitingForCpu: Number.NaN, blockedOrIdle: Number.NaN }, ms };
    const cpuMs = await readProcCpuMs(this.server.pid);
    const sched = await readSchedStat(this.server.pid);
    const onCpu = (sched.onCpuMs - this.sched.onCpuMs) / ms;
    const waitingForCpu = (sched.runQueueMs - this.sched.runQueueMs) / ms;
    return {
      serverCores: round2((cpuMs - this.cpuMs) / ms),
      mainThread: { onCpu: round2(onCpu), waitingForCpu: round2(waitingForCpu), blockedOrIdle: round2(Math.max(0, 1 - onCpu - waitingForCpu)) },
      ms,
    };
  }
}

/** Runs `work` and says how much CPU the server used meanwhile (see ServerCpuMeter). */
export async function withServerCpu<T>(server: ServerProcess, work: () => Promise<T>): Promise<{ result: T; serverCores: number; mainThread: MainThreadShares; ms: number }> {
  const meter = await ServerCpuMeter.start(server);
  const result = await work();
  return { result, ...(await meter.stop()) };
}

export function describeShares(shares: MainThreadShares): string {
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  return `event loop ${pct(shares.onCpu)} on CPU, ${pct(shares.waitingForCpu)} waiting for a CPU, ${pct(shares.blockedOrIdle)} blocked or idle`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Waits for `check` to hold, polling; false if it still does not after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}

/** What a scenario's body gets on its fresh server; the workers it starts are stopped for it. */
export interface FreshServer {
  server: ServerProcess;
  anomalies: Anomalies;
  startWorkers(count: number): WorkerHandle[];
}

/**
 * Runs a scenario's body on a server of its own and always stops the body's workers and the
 * server (summarising its CPU profile when profiling), whether the body finished or threw.
 */
export async function onFreshServer(
  ctx: BenchContext,
  name: ScenarioName,
  title: string,
  extraArgs: string[],
  body: (run: FreshServer) => Promise<Pick<ScenarioResult, 'metrics' | 'details'> & Partial<Pick<ScenarioResult, 'title'>>>,
): Promise<ScenarioResult> {
  const server = await ctx.startServer(name, extraArgs);
  const anomalies = new Anomalies();
  const workers: WorkerHandle[] = [];
  let outcome;
  let profiles: ProfileSummary[] = [];
  try {
    outcome = await body({
      server,
      anomalies,
      startWorkers: (count) => {
        const started = startWorkers(count);
        workers.push(...started);
        return started;
      },
    });
  } finally {
    await stopWorkers(workers);
    profiles = await ctx.stopServer(name, server);
  }
  return { name, title, ...outcome, anomalies: anomalies.toJSON(), serverCommand: server.command, ...(profiles[0] && { profile: profiles[0] }), ...(profiles.length > 1 && { threadProfiles: profiles.slice(1) }) };
}
