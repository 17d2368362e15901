/**
 * deploy/cluster.sh as a person uses it: start it, use the cluster through HAProxy, press Ctrl-C
 * (SIGINT to the script's process group, as a terminal sends it). Every time: the nodes stop
 * gracefully and their last lines are printed, HAProxy stops after them, nothing is left running
 * or behind, and HAProxy's start-up warnings are not shown.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { freePort } from './support/cluster.js';
import { createTestDatabase } from './support/postgres-database.js';

const script = fileURLToPath(new URL('../../../../deploy/cluster.sh', import.meta.url));
let database: { url: string; drop(): Promise<void> };
let scratch = '';

before(async () => {
  database = await createTestDatabase();
  scratch = await mkdtemp(join(tmpdir(), 'courier-cluster-script-'));
});

after(async () => {
  await database?.drop();
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  output: string;
  code: number | null;
}

/** Starts the script with 2 nodes, waits until it serves, checks HAProxy answers, then Ctrl-C. */
async function startUseAndInterrupt(round: number): Promise<{ run: Run; port: number }> {
  const [port, statsPort] = [await freePort(), await freePort()];
  const tmp = join(scratch, `tmp${round}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(tmp));
  const child = spawn('bash', [script, '2'], {
    // A process group of its own, like a shell's foreground job: the signal goes to all of it.
    detached: true,
    env: {
      ...process.env,
      COURIER_DATABASE_URL: database.url,
      COURIER_REDIS_PREFIX: `courier-test-script-${process.pid}-${round}:`,
      COURIER_CLUSTER_PORT: String(port),
      COURIER_CLUSTER_STATS_PORT: String(statsPort),
      COURIER_DATA_DIR: join(scratch, `data${round}`),
      COURIER_LOG_LEVEL: 'info',
      TMPDIR: tmp,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const changed = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const check of changed) check();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ output, code })));
  const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 90_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes('Ctrl-C stops')) resolve();
      };
      changed.add(check);
      exited.then((run) => reject(new Error(`cluster.sh exited early (${run.code})\n${run.output}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(health.status, 200, output);
    process.kill(-child.pid!, 'SIGINT');
    const run = await exited;
    assert.deepEqual(await readdir(tmp), [], 'the temporary HAProxy configuration is removed');
    return { run, port };
  } finally {
    clearTimeout(killer);
  }
}

for (const round of [1, 2]) {
  test(`Ctrl-C stops the nodes gracefully, then HAProxy, with every last line (round ${round})`, { timeout: 120_000 }, async () => {
    const { run, port } = await startUseAndInterrupt(round);
    assert.equal(run.code, 0, run.output);
    const lines = run.output.split('\n');
    const stopping = lines.indexOf('cluster.sh: stopping the nodes, then HAProxy');
    const nodeStopped = [1, 2].map((i) => lines.findIndex((l) => l.startsWith(`[node${i}] `) && l.includes('"msg":"stopped"')));
    const stopped = lines.indexOf('cluster.sh: stopped');
    assert.ok(stopping >= 0, run.output);
    for (const index of nodeStopped) assert.ok(index > stopping && index < stopped, `each node's "stopped" line comes before the end\n${run.output}`);
    assert.doesNotMatch(run.output, /\[WARNING\]|\[NOTICE\]|\[ALERT\]/, 'HAProxy is quiet at start-up');
    // Nothing is left listening.
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    for (const i of [1, 2]) await assert.rejects(fetch(`http://127.0.0.1:${port + i}/healthz`));
  });
}
