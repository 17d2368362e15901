/**
 * README examples as tests: a fenced block right after `<!-- example: <name> ... -->` is taken
 * from the README as it is and run, so an example that stops working fails the build.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** The text of the fenced block that follows the marker `<!-- example: <name>`. */
export async function readmeExample(readmePath: string, name: string): Promise<string> {
  const text = await readFile(readmePath, 'utf8');
  const marker = text.indexOf(`<!-- example: ${name}`);
  if (marker < 0) throw new Error(`${readmePath} has no "<!-- example: ${name}" marker`);
  const fence = /```[a-z]*\n([\s\S]*?)```\n/.exec(text.slice(marker));
  if (fence === null) throw new Error(`no fenced block after the "${name}" marker in ${readmePath}`);
  return fence[1]!;
}

export interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the SDK quickstart (`node <file>` in `cwd`) against `serverUrl`, typing each code it asks
 * for (`code sent to <phone>: `) as a person would, from the server's SMS outbox.
 */
export function runQuickstart(file: string, cwd: string, serverUrl: string, codeFor: (phone: string) => Promise<string>, deadlineMs = 60_000): Promise<ExampleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, env: { ...process.env, COURIER_SERVER: serverUrl }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answered = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the example did not finish within ${deadlineMs} ms\n--- stdout\n${stdout}--- stderr\n${stderr}`));
    }, deadlineMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const prompts = [...stdout.matchAll(/code sent to (\+\d+): /g)];
      for (const prompt of prompts.slice(answered)) {
        answered++;
        codeFor(prompt[1]!).then(
          (code) => child.stdin.write(`${code}\n`),
          (err: unknown) => child.kill('SIGKILL') && reject(err as Error),
        );
      }
    });
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the quickstart must print, whatever the order of its lines (piped input is not echoed, so a line may follow a prompt). */
export const quickstartLines = [
  /bob: message from \+15550000001: hello bob$/m,
  /^alice: sent [0-9a-f-]{36}$/m,
  /^bob: message from \+15550000001: the bytes of a file \(look\)$/m,
  /^alice: delivered by \+15550000002$/m,
  /^alice: read by \+15550000002$/m,
];
