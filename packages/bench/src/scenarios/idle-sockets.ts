import { readdir } from 'node:fs/promises';
import { KiB, MiB, openFileLimit, type ProcMemory } from '../proc-status.js';
import { registerUsers } from '../registration.js';
import { readServerHeap } from '../server-heap.js';
import { describeShares, sleep, withServerCpu, onFreshServer, type BenchContext, type Metric, type ScenarioResult } from '../scenario.js';
import type { ServerProcess } from '../server-process.js';
import { targets } from '../targets.js';
import { split } from '../worker-pool.js';

/**
 * Scenario 3: as many authenticated idle sockets as possible towards the target, spread over
 * enough processes that no generator process runs out of file descriptors; the server's memory
 * before and after gives the cost of one socket.
 */
export async function runIdleSockets(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  return onFreshServer(ctx, 'sockets', '3. Idle sockets', [], async ({ server, anomalies, startWorkers }) => {
    let metrics: Metric[] = [];
    let details: Record<string, unknown> = {};
    const started = Date.now();
    const accounts = await registerUsers(server.url, server.smsOutbox, o.sockets, {
      concurrency: o.registerConcurrency,
      onProgress: (done) => ctx.log(`sockets: ${done} of ${o.sockets} users registered`),
    });
    const registerMs = Date.now() - started;
    ctx.log(`sockets: registered ${accounts.length} users in ${registerMs} ms; settling ${o.settleS} s`);
    await sleep(o.settleS * 1000);
    server.assertAlive();
    const before = await steadyMemory(server);
    const heapBefore = await readServerHeap(server.url);
    const fdsBefore = await openFds(server.pid);

    // Each generator process holds one fd per socket: keep each under half its own limit.
    const perProcess = Math.floor(openFileLimit() / 2);
    const processes = o.socketWorkers ?? Math.max(o.workers, Math.ceil(o.sockets / perProcess));
    const workers = startWorkers(processes);
    ctx.log(`sockets: opening ${o.sockets} sockets from ${processes} processes (fd limit ${openFileLimit()} each)`);
    const openStarted = Date.now();
    const { result: opened, serverCores, mainThread } = await withServerCpu(server, () => Promise.all(
      split(accounts, processes).map((slice, i) =>
        workers[i]!.call<{ opened: number; failed: number; failures: string[]; ms: number; cpuMs: number }>(
          'socketsOpen',
          { wsUrl: server.wsUrl, accounts: slice, ack: ctx.ack, concurrency: o.socketConcurrency, timeoutMs: 30_000 },
          15 * 60_000,
        ),
      ),
    ));
    const openMs = Date.now() - openStarted;
    const generatorCores = Math.round((opened.reduce((n, r) => n + r.cpuMs, 0) / openMs) * 100) / 100;
    const openCount = opened.reduce((n, r) => n + r.opened, 0);
    const failures = opened.flatMap((r) => r.failures);
    ctx.log(`sockets: ${openCount} open in ${openMs} ms, ${opened.reduce((n, r) => n + r.failed, 0)} failed${failures.length ? ` (first: ${failures[0]})` : ''}; settling ${o.settleS} s`);
    await sleep(o.settleS * 1000);
    server.assertAlive();
    const after = await steadyMemory(server);
    const heapAfter = await readServerHeap(server.url);
    const fdsAfter = await openFds(server.pid);
    const checks = await Promise.all(workers.map((w) => w.call<{ open: number; anomalies: { count: number; samples: string[] } }>('socketsCheck', {}, 30_000)));
    const stillOpen = checks.reduce((n, c) => n + c.open, 0);
    for (const check of checks) anomalies.addAll(check.anomalies);
    await Promise.all(workers.map((w) => w.call('socketsClose', {}, 5 * 60_000)));
    server.assertAlive();

    const perSocket = openCount === 0 ? 0 : (after.rss - before.rss) / openCount;
    const perSocketAnon = openCount === 0 ? 0 : (after.rssAnon - before.rssAnon) / openCount;
    metrics = [
      {
        label: `authenticated idle sockets held (of ${o.sockets} tried)`,
        value: stillOpen,
        unit: 'sockets',
        target: { text: `${targets.sockets.toLocaleString('en-US')}`, met: stillOpen >= targets.sockets },
      },
      {
        label: 'server memory per socket (VmRSS after − before)',
        value: Math.round(perSocket),
        unit: `bytes (${(perSocket / KiB).toFixed(1)} KiB)`,
        target: { text: `≤ ${targets.bytesPerSocket / KiB} KiB`, met: openCount > 0 && perSocket <= targets.bytesPerSocket },
      },
      { label: 'of which anonymous memory (RssAnon: heaps, buffers)', value: Math.round(perSocketAnon), unit: `bytes (${(perSocketAnon / KiB).toFixed(1)} KiB)` },
      ...(heapBefore !== undefined && heapAfter !== undefined
        ? [
            {
              label: 'of which V8 heap in use (/metrics nodejs_heap_size_used_bytes)',
              value: Math.round((heapAfter.heapUsed - heapBefore.heapUsed) / openCount),
              unit: `bytes per socket (${((heapAfter.heapUsed - heapBefore.heapUsed) / openCount / KiB).toFixed(1)} KiB; heap ${Math.round(heapBefore.heapUsed / MiB)} → ${Math.round(heapAfter.heapUsed / MiB)} MiB)`,
            },
          ]
        : []),
      { label: 'server VmRSS before → after', value: Math.round(after.rss / MiB), unit: `MiB (from ${Math.round(before.rss / MiB)} MiB)` },
      { label: 'sockets opened and authenticated per second', value: Math.round(openCount / (openMs / 1000)), unit: `sockets/s (CPU meanwhile: server ${serverCores} cores, generator ${generatorCores} cores; ${describeShares(mainThread)})` },
    ];
    details = { tried: o.sockets, opened: openCount, stillOpen, failures: failures.slice(0, 10), registerMs, openMs, openServerCores: serverCores, openMainThread: mainThread, openGeneratorCores: generatorCores, processes, before, after, heapBefore, heapAfter, fdsBefore, fdsAfter };
    return { metrics, details };
  });
}

/** The median of five readings 200 ms apart: one reading can catch a GC in the middle. */
async function steadyMemory(server: ServerProcess): Promise<ProcMemory> {
  const readings: ProcMemory[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(await server.memory());
    await sleep(200);
  }
  const median = (key: keyof ProcMemory) => readings.map((r) => r[key]).sort((a, b) => a - b)[2]!;
  return { rss: median('rss'), rssAnon: median('rssAnon'), vmData: median('vmData') };
}

async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}
