/**
 * A real Courier server in a child process, started the way an operator would:
 * `node packages/cli/bin/courier.js serve --port 0 --data-dir <tmp> --sms-outbox <tmp>/sms.jsonl`.
 * The URL is read from the line containing `listening`; codes are read from the SMS outbox file.
 * `restart()` starts again on the same data dir and port, so clients reconnect to the same URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const startTimeoutMs = 30_000;
const stopTimeoutMs = 15_000;

/** The repo root: the nearest ancestor of this file holding the CLI's entry point. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'packages', 'cli', 'bin', 'courier.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repo root (packages/cli/bin/courier.js) above the test file');
    dir = parent;
  }
  return dir;
}

export interface ServerOptions {
  /** Extra `serve` flags, e.g. `['--no-rate-limits']`. */
  args?: string[];
  env?: Record<string, string>;
}

export class ServerProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];
  port = 0;
  url = '';

  private constructor(
    readonly dataDir: string,
    readonly smsOutbox: string,
    private readonly options: ServerOptions,
    private readonly ownsDir: boolean,
  ) {}

  /** Starts a server on a fresh temporary data dir and a free port. */
  static async start(options: ServerOptions = {}): Promise<ServerProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'courier-client-test-'));
    const server = new ServerProcess(join(dir, 'data'), join(dir, 'sms.jsonl'), options, true);
    await server.#spawn(0);
    return server;
  }

  /** The server's recent output, for failure messages. */
  output(): string {
    return this.#log.join('\n');
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Graceful stop (SIGTERM); SIGKILL if it has not exited in time. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** `kill -9`: the crash the contract says must lose nothing acknowledged. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** Freezes the process (SIGSTOP): its sockets stay open but nothing answers, like a dead peer. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Thaws a paused process (SIGCONT). */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Starts again on the same data dir and port (stopping it first if it still runs). */
  async restart(how: 'stop' | 'kill' = 'stop'): Promise<void> {
    if (how === 'stop') await this.stop();
    else await this.kill();
    await this.#spawn(this.port);
  }

  /** Stops the server and deletes its temporary files. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) await rm(dirname(this.dataDir), { recursive: true, force: true });
  }

  /** Waits for an SMS to `phone` sent after `after` (ms) and returns its code. */
  async waitForCode(phone: string, after: number, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = existsSync(this.smsOutbox) ? await readFile(this.smsOutbox, 'utf8') : '';
      const codes = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { phone: string; code: string; at: number })
        .filter((sms) => sms.phone === phone && sms.at >= after);
      const last = codes.at(-1);
      if (last !== undefined) return last.code;
      if (Date.now() > deadline) throw new Error(`no SMS to ${phone} in ${this.smsOutbox} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #spawn(port: number): Promise<void> {
    const root = repoRoot();
    const args = [
      join(root, 'packages', 'cli', 'bin', 'courier.js'),
      'serve',
      '--port',
      String(port),
      '--data-dir',
      this.dataDir,
      '--sms-outbox',
      this.smsOutbox,
      ...(this.options.args ?? []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    // A test run that ends abruptly (a failed assertion in a hook, a timeout) must not leave servers behind.
    const orphanGuard = (): void => void child.kill('SIGKILL');
    process.once('exit', orphanGuard);
    child.once('exit', () => process.off('exit', orphanGuard));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#remember(`[server exited: code ${code}, signal ${signal}]`);
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    const listening = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not print "listening" in ${startTimeoutMs} ms:\n${this.output()}`)), startTimeoutMs);
      const onLine = (line: string): void => {
        this.#remember(line);
        const url = /listening/i.test(line) ? /(https?:\/\/[^\s"',)]+)/.exec(line)?.[1] : undefined;
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`the server exited before listening:\n${this.output()}`));
      });
    });
    const url = new URL(await listening);
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
    this.port = Number(url.port);
    this.url = url.origin;
  }

  #remember(line: string): void {
    this.#log.push(line);
    if (this.#log.length > 200) this.#log.shift();
  }
}
