/**
 * A real server started as the README's quick start does:
 * `courier serve --port 0 --data-dir <tmp>/data --sms-outbox <tmp>/sms.jsonl`, its URL read from the
 * `courier listening on <url>` line. `restart()` comes back on the same port and data dir.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCourier, type CliProcess } from './cli.js';

const startTimeoutMs = 30_000;

export class CourierServer {
  #process: CliProcess | undefined;
  port = 0;
  url = '';

  private constructor(
    readonly dir: string,
    private readonly executable: string | undefined,
  ) {}

  /** `executable`: run this `courier` (e.g. an installed package's bin link) instead of the repo's. */
  static async start(options: { executable?: string } = {}): Promise<CourierServer> {
    const server = new CourierServer(await mkdtemp(join(tmpdir(), 'courier-cli-test-server-')), options.executable);
    await server.#spawn(0);
    return server;
  }

  get smsOutbox(): string {
    return join(this.dir, 'sms.jsonl');
  }

  /** Everything the server printed, for assertion messages. */
  output(): string {
    return this.#process?.describe() ?? '(not running)';
  }

  /** Graceful stop (SIGTERM), as an operator's Ctrl-C or a service manager would. */
  async stop(): Promise<void> {
    const running = this.#process;
    if (running === undefined) return;
    this.#process = undefined;
    const result = await running.stop('SIGTERM', 15_000);
    if (result.code !== 0) throw new Error(`the server did not stop cleanly (exit ${result.code ?? result.signal})\n${running.describe()}`);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn(this.port);
  }

  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** The newest code the SMS outbox holds for `phone`, waiting for it to be written. */
  async codeFor(phone: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = existsSync(this.smsOutbox) ? await readFile(this.smsOutbox, 'utf8') : '';
      const mine = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { phone: string; code: string })
        .filter((sms) => sms.phone === phone);
      const last = mine.at(-1);
      if (last !== undefined) return last.code;
      if (Date.now() > deadline) throw new Error(`no SMS to ${phone} in ${this.smsOutbox} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #spawn(port: number): Promise<void> {
    const child = startCourier(['serve', '--port', String(port), '--data-dir', join(this.dir, 'data'), '--sms-outbox', this.smsOutbox, '--log-level', 'warn'], {
      cwd: this.dir,
      ...(this.executable === undefined ? {} : { executable: this.executable }),
      // Long enough for every test of a file; the after() hook stops it well before.
      deadlineMs: 10 * 60_000,
    });
    this.#process = child;
    let url: string | undefined;
    try {
      [, url] = await child.waitFor('stdout', /courier listening on (\S+)/, startTimeoutMs);
    } catch (err) {
      this.#process = undefined;
      await child.stop('SIGKILL');
      throw err;
    }
    this.url = new URL(url!).origin;
    this.port = Number(new URL(url!).port);
  }
}
