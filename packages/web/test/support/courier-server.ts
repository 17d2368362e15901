/**
 * `courier serve` as a person starts it (the README's command), in a child process with a data dir
 * of its own; its URL comes from the `courier listening on <url>` line, SMS codes from the outbox file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export class CourierServer {
  private constructor(
    readonly url: string,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly output: () => string,
  ) {}

  static async start(extraArgs: string[] = []): Promise<CourierServer> {
    const dir = await mkdtemp(join(tmpdir(), 'courier-web-test-'));
    const args = [courierBin(), 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--sms-outbox', join(dir, 'sms.jsonl'), '--log-level', 'warn', ...extraArgs];
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`courier serve did not start in 30 s:\n${output}`)), 30_000);
      child.stdout!.on('data', () => {
        const match = /courier listening on (\S+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`courier serve exited (${code}) before listening:\n${output}`));
      });
    });
    process.once('exit', () => child.kill('SIGKILL'));
    return new CourierServer(url, dir, child, () => output);
  }

  /** The newest code the SMS outbox holds for `phone`. */
  async codeFor(phone: string): Promise<string> {
    const outbox = join(this.dir, 'sms.jsonl');
    for (let tries = 0; tries < 200; tries++) {
      const text = existsSync(outbox) ? await readFile(outbox, 'utf8') : '';
      const codes = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { phone: string; code: string })
        .filter((sms) => sms.phone === phone);
      if (codes.length > 0) return codes.at(-1)!.code;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no SMS to ${phone}\n${this.output()}`);
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The CLI's entry point, found from this file upwards (no machine-specific path). */
function courierBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'packages', 'cli', 'bin', 'courier.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find packages/cli/bin/courier.js above the test');
    dir = parent;
  }
  return join(dir, 'packages', 'cli', 'bin', 'courier.js');
}
