import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The `courier` command of this checkout (tests run from packages/server/dist/test/support). */
export const courierBin = fileURLToPath(new URL('../../../../cli/bin/courier.js', import.meta.url));

export interface SpawnedNode {
  process: ChildProcess;
  url: string;
  wsUrl: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  output: string[];
}

/**
 * Starts `courier serve` as a child process, exactly as a user would, and waits for its
 * `listening` line. Used where the test must kill the process (kill -9) or restart it.
 */
export async function spawnNode(args: string[], env: Record<string, string> = {}): Promise<SpawnedNode> {
  const child = spawn(process.execPath, [courierBin, 'serve', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output.push(line);
      const match = /listening on (\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    void exited.then((code) => reject(new Error(`courier serve exited (${code}) before listening:\n${output.join('\n')}`)));
    setTimeout(() => reject(new Error(`courier serve did not listen within 20 s:\n${output.join('\n')}`)), 20_000).unref();
  });
  return { process: child, url, wsUrl: `${url.replace(/^http/, 'ws')}/v1/ws`, exited, output };
}
