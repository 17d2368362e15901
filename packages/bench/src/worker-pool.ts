import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerScript = fileURLToPath(new URL('./worker.js', import.meta.url));

interface Reply {
  callId: number;
  result?: unknown;
  error?: string;
}

/** One load-generator process, driven by the parent with request/answer calls over IPC. */
export class WorkerHandle {
  private nextCall = 0;
  private readonly waiting = new Map<number, { resolve: (value: any) => void; reject: (err: Error) => void }>();
  private exitReason: string | undefined;

  constructor(
    readonly index: number,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.callId);
      if (waiter === undefined) return;
      this.waiting.delete(reply.callId);
      if (reply.error !== undefined) waiter.reject(new Error(`worker ${index}: ${reply.error}`));
      else waiter.resolve(reply.result);
    });
    child.once('exit', (code, signal) => {
      this.exitReason = signal === null ? `exit code ${code}` : `signal ${signal}`;
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`worker ${index} ended (${this.exitReason})`));
      this.waiting.clear();
    });
  }

  /** Runs `method` in the worker; rejects if it throws, times out or the worker dies. */
  call<T>(method: string, args: unknown, timeoutMs: number): Promise<T> {
    if (this.exitReason !== undefined) return Promise.reject(new Error(`worker ${this.index} has ended (${this.exitReason})`));
    const callId = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(callId);
        reject(new Error(`worker ${this.index}: ${method} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(callId, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.child.send({ callId, method, args });
    });
  }

  stop(): Promise<void> {
    if (this.exitReason !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}

/** Forks `count` worker processes; each has its own file-descriptor budget. */
export function startWorkers(count: number): WorkerHandle[] {
  return Array.from({ length: count }, (_, index) => {
    const child = fork(workerScript, [String(index)], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new WorkerHandle(index, child);
  });
}

export async function stopWorkers(workers: WorkerHandle[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop()));
}

/** Splits `items` into `parts` nearly equal, contiguous slices. */
export function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < parts; i++) out.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  return out;
}
