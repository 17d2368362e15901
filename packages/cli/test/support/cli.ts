/**
 * Runs the `courier` command the way a person at a terminal does: `node packages/cli/bin/courier.js
 * <args>` in a child process, with its own environment (a temporary COURIER_HOME, the server URL).
 * Every child has a deadline after which it is killed, so a hung command fails its test instead of
 * hanging the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export function courierBin(): string {
  return join(repoRoot(), 'packages', 'cli', 'bin', 'courier.js');
}

export interface CliOptions {
  /** Added to the environment (which starts without any COURIER_* variable of the test runner). */
  env?: Record<string, string>;
  /** Working directory; the repo root unless given. */
  cwd?: string;
  /** Killed (SIGKILL) after this long. */
  deadlineMs?: number;
  /** Run this file instead of `node courier.js` (e.g. the npm bin link, through its shebang). */
  executable?: string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for `fetch <hash> -`. */
  stdoutBytes: Buffer;
}

const defaultDeadlineMs = 20_000;
const live = new Set<ChildProcess>();
// A run that ends abruptly (a failed hook, a test timeout) must not leave commands or servers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The runner's environment without COURIER_* variables, which would change what the commands do. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('COURIER_')) env[key] = value;
  return { ...env, ...extra };
}

/** One running `courier` command. */
export class CliProcess {
  readonly exited: Promise<CliResult>;
  #child: ChildProcess;
  #out: Buffer[] = [];
  #err = '';
  #changed = new Set<() => void>();
  #done = false;
  #timedOut = false;

  constructor(
    readonly args: string[],
    options: CliOptions = {},
  ) {
    const command = options.executable ?? process.execPath;
    const argv = options.executable === undefined ? [courierBin(), ...args] : args;
    const child = spawn(command, argv, {
      cwd: options.cwd ?? repoRoot(),
      env: cleanEnv(options.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    live.add(child);
    const deadline = setTimeout(() => {
      this.#timedOut = true;
      child.kill('SIGKILL');
    }, options.deadlineMs ?? defaultDeadlineMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      this.#out.push(chunk);
      this.#notify();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#err += chunk.toString('utf8');
      this.#notify();
    });
    // A command that exits before reading its input closes the pipe: that is its business, not a test failure.
    child.stdin!.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
    this.exited = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(deadline);
        live.delete(child);
        this.#done = true;
        this.#notify();
        if (this.#timedOut) {
          reject(new Error(`courier ${args.join(' ')} was still running after its deadline, killed\n${this.describe()}`));
          return;
        }
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, stdoutBytes: Buffer.concat(this.#out) });
      });
    });
    // Callers that only use waitFor() still must not leave an unhandled rejection behind.
    this.exited.catch(() => undefined);
  }

  get stdout(): string {
    return Buffer.concat(this.#out).toString('utf8');
  }

  get stderr(): string {
    return this.#err;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The command line and everything it printed so far, for assertion messages. */
  describe(): string {
    return `$ courier ${this.args.join(' ')}\n--- stdout\n${this.stdout}--- stderr\n${this.stderr}`;
  }

  /** Waits until `pattern` matches what the command printed on `stream`; fails if it exits first or in time. */
  async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(stream === 'stdout' ? this.stdout : this.stderr);
        if (match !== null) finish(() => resolve(match));
        else if (this.#done) finish(() => reject(new Error(`courier exited without printing ${pattern} on ${stream}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} on ${stream} within ${timeoutMs} ms\n${this.describe()}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.#changed.delete(check);
        settle();
      };
      this.#changed.add(check);
      check();
    });
  }

  /** Types into the command's stdin. */
  write(text: string): void {
    this.#child.stdin!.write(text);
  }

  /** Closes stdin (end of input, as Ctrl-D at a terminal). */
  endInput(): void {
    this.#child.stdin!.end();
  }

  /** Sends `signal` (Ctrl-C by default) and waits for the exit; SIGKILL if that takes too long. */
  async stop(signal: NodeJS.Signals = 'SIGINT', graceMs = 10_000): Promise<CliResult> {
    if (!this.#done) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #notify(): void {
    for (const check of [...this.#changed]) check();
  }
}

/** Starts a command and returns at once (for `listen`, `serve`, or typing into `register`). */
export function startCourier(args: string[], options: CliOptions = {}): CliProcess {
  return new CliProcess(args, options);
}

/** Runs a command to its end; `input`, if given, is its whole stdin (otherwise stdin is closed at once). */
export async function runCourier(args: string[], options: CliOptions & { input?: string } = {}): Promise<CliResult> {
  const child = new CliProcess(args, options);
  if (options.input !== undefined) child.write(options.input);
  child.endInput();
  return child.exited;
}

/** A result's exit status and output, for assertion messages. */
export function show(result: CliResult): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
}
