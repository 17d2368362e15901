import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readProcMemory, type ProcMemory } from './proc-status.js';

/** The `courier` command of this checkout (this file runs from packages/bench/dist/src). */
export const courierBin = fileURLToPath(new URL('../../../cli/bin/courier.js', import.meta.url));

/** The `courier` command of another checkout (built), e.g. a worktree of an older commit to compare with. */
export function courierBinOf(checkout: string): string {
  return join(checkout, 'packages', 'cli', 'bin', 'courier.js');
}

export interface ServerSettings {
  sqliteSync: 'full' | 'normal';
  logLevel: string;
  /** Directory for a V8 CPU profile of the server (node --cpu-prof), or undefined for none. */
  profileDir?: string;
  extraArgs?: string[];
  /** Run the server of this checkout instead of this one's. */
  checkout?: string;
  /** Called once the server has stopped (e.g. to drop its database). */
  onStopped?: () => Promise<void>;
}

/**
 * One `courier serve` child process with its own temporary data directory, started exactly as
 * the contract's "Starting a server" says, plus `--no-rate-limits` (one machine, many clients).
 */
export class ServerProcess {
  private exitInfo: string | undefined;

  private constructor(
    readonly child: ChildProcess,
    /** The server's last 200 lines of stdout and stderr. */
    readonly output: string[],
    readonly dataDir: string,
    readonly url: string,
    readonly command: string[],
    readonly exited: Promise<string>,
    private readonly onStopped: (() => Promise<void>) | undefined,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/v1/ws`;
  }

  get smsOutbox(): string {
    return join(this.dataDir, 'sms.jsonl');
  }

  /** Why the process is gone, or undefined while it runs. */
  get exitReason(): string | undefined {
    return this.exitInfo;
  }

  static async start(settings: ServerSettings): Promise<ServerProcess> {
    const dataDir = await mkdtemp(join(tmpdir(), 'courier-bench-'));
    const nodeArgs = settings.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.profileDir];
    const serveArgs = [
      'serve',
      '--port', '0',
      '--data-dir', dataDir,
      '--sms-outbox', join(dataDir, 'sms.jsonl'),
      '--no-rate-limits',
      '--sqlite-sync', settings.sqliteSync,
      '--log-level', settings.logLevel,
      ...(settings.extraArgs ?? []),
    ];
    const bin = settings.checkout === undefined ? courierBin : courierBinOf(settings.checkout);
    const child = spawn(process.execPath, [...nodeArgs, bin, ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const remember = (line: string) => {
      output.push(line);
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    let server: ServerProcess | undefined;
    const exited = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => {
        const reason = signal === null ? `exit code ${code}` : `signal ${signal}`;
        if (server !== undefined) server.exitInfo = reason;
        resolve(reason);
      }),
    );
    // Both pipes are always read: a server blocked on a full stdout pipe would measure nothing.
    createInterface({ input: child.stderr! }).on('line', remember);
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        remember(line);
        const match = /listening on (\S+)/.exec(line);
        if (match) resolve(match[1]!);
      });
      void exited.then((reason) => reject(new Error(`courier serve ended (${reason}) before listening:\n${output.join('\n')}`)));
      setTimeout(() => reject(new Error(`courier serve did not listen within 30 s:\n${output.join('\n')}`)), 30_000).unref();
    });
    server = new ServerProcess(child, output, dataDir, url, [process.execPath, ...nodeArgs, bin, ...serveArgs], exited, settings.onStopped);
    return server;
  }

  memory(): Promise<ProcMemory> {
    return readProcMemory(this.pid);
  }

  /** Throws, with the server's last lines, if it has died. Scenarios call it at every step. */
  assertAlive(): void {
    if (this.exitInfo !== undefined) {
      throw new ServerDied(`the server process ended unexpectedly (${this.exitInfo}). Its last output:\n${this.output.slice(-40).join('\n')}`);
    }
  }

  /** Graceful stop (SIGTERM, as an operator would), so a CPU profile gets written; then the data goes. */
  async stop(): Promise<void> {
    if (this.exitInfo === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dataDir, { recursive: true, force: true });
    await this.onStopped?.();
  }
}

export class ServerDied extends Error {
  override name = 'ServerDied';
}

/**
 * The .cpuprofile files process `pid` wrote into `dir`, one per thread, the main thread first
 * (V8 names them CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile).
 */
export async function profilesIn(dir: string, pid: number): Promise<string[]> {
  const thread = (name: string) => Number(name.split('.')[4]);
  return (await readdir(dir))
    .filter((name) => name.endsWith('.cpuprofile') && name.split('.')[3] === String(pid))
    .sort((a, b) => thread(a) - thread(b))
    .map((name) => join(dir, name));
}
