import { Anomalies } from '../anomalies.js';
import { BenchSocket } from '../bench-socket.js';
import { MiB } from '../proc-status.js';
import { registerUsers } from '../registration.js';
import { describeShares, sleep, withServerCpu, onFreshServer, type BenchContext, type Metric, type ScenarioResult } from '../scenario.js';
import { targets } from '../targets.js';
import { split } from '../worker-pool.js';
import type { ReceiveResult } from './drain-worker.js';

/** Acks the server has not applied by then count as lost acks, not as slow ones. */
const ACKS_APPLIED_WITHIN_MS = 120_000;

/**
 * Scenario 4: a backlog queued for one offline device by several senders, then the device
 * connects: how long until it has every message (acking as it goes, as the SDK does).
 */
export async function runOfflineDrain(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  return onFreshServer(ctx, 'drain', '4. Offline drain', [], async ({ server, anomalies, startWorkers }) => {
    let metrics: Metric[] = [];
    let details: Record<string, unknown> = {};
    const accounts = await registerUsers(server.url, server.smsOutbox, o.drainSenders + 1, { concurrency: o.registerConcurrency });
    const device = accounts[0]!;
    const senders = accounts.slice(1);
    const perSender = Math.ceil(o.drainMessages / o.drainSenders);
    const total = perSender * o.drainSenders;
    const workers = startWorkers(Math.min(o.workers, o.drainSenders));
    ctx.log(`drain: ${o.drainSenders} senders queue ${total} messages for ${device.userId}, which is offline`);
    const { result: fills, serverCores: fillCores, mainThread: fillThread } = await withServerCpu(server, () => Promise.all(
      split(senders, workers.length).map((slice, i) =>
        workers[i]!.call<{ sent: number; ms: number; anomalies: { count: number; samples: string[] } }>(
          'drainFill',
          { wsUrl: server.wsUrl, senders: slice, to: device.userId, perSender, window: o.drainWindow, bodyBytes: o.bodyBytes, ack: ctx.ack, workerIndex: i, timeoutMs: 10 * 60_000 },
          11 * 60_000,
        ),
      ),
    ));
    for (const fill of fills) anomalies.addAll(fill.anomalies);
    const queued = fills.reduce((n, f) => n + f.sent, 0);
    const fillMs = Math.max(...fills.map((f) => f.ms));
    ctx.log(`drain: ${queued} queued in ${Math.round(fillMs)} ms (${Math.round(queued / (fillMs / 1000))} msg/s); the device connects`);
    server.assertAlive();
    await sleep(1000);
    const memoryQueued = await server.memory();

    const { result: drained, serverCores: drainCores, mainThread: drainThread } = await withServerCpu(server, () =>
      workers[0]!.call<ReceiveResult>('drainReceive', { wsUrl: server.wsUrl, account: device, expected: queued, ack: ctx.ack, timeoutMs: 120_000 }, 130_000),
    );
    anomalies.addAll(drained.anomalies);
    if (drained.received !== drained.distinct) anomalies.add(`the device got ${drained.received} message frames for ${drained.distinct} distinct messages on one connection`);
    ctx.log(`drain: ${drained.distinct} of ${queued} received in ${Math.round(drained.ms)} ms (ready after ${Math.round(drained.readyMs)} ms); last seq ${drained.lastSeq}, ${drained.gapCount} seq jumps ${JSON.stringify(drained.gaps.slice(0, 5))}`);
    server.assertAlive();

    // Every message was acked before the socket closed; once the server has applied those acks,
    // a new connection must be pushed nothing. How long applying them takes is measured too.
    const closedAt = Date.now();
    let leftover = -1;
    while (leftover !== 0 && Date.now() - closedAt < ACKS_APPLIED_WITHIN_MS) {
      await sleep(1000);
      leftover = await countRedelivered(server.wsUrl, device, ctx);
    }
    const acksAppliedMs = leftover === 0 ? Date.now() - closedAt : -1;
    if (leftover !== 0) {
      anomalies.add(`the device acked all ${queued} messages, yet ${ACKS_APPLIED_WITHIN_MS / 1000} s later a new connection was still pushed ${leftover} of them again`);
    }
    ctx.log(`drain: ${leftover === 0 ? `the server had applied every ack within ${acksAppliedMs} ms of the close` : `${leftover} events still pushed again`}`);

    const drainMs = drained.ms < 0 ? Number.POSITIVE_INFINITY : drained.ms;
    metrics = [
      {
        label: `backlog of ${queued.toLocaleString('en-US')} delivered to the reconnecting device`,
        value: Math.round(drainMs),
        unit: `ms (${Math.round(drained.distinct / (drainMs / 1000))} msg/s; server CPU ${drainCores} cores; ${describeShares(drainThread)})`,
        target: { text: `≤ ${targets.drainMs.toLocaleString('en-US')} ms`, met: drainMs <= targets.drainMs && drained.distinct === queued },
      },
      { label: 'socket open → ready / → first message', value: Math.round(drained.readyMs), unit: `ms (first message at ${Math.round(drained.firstMessageMs)} ms)` },
      { label: `queueing rate (${o.drainSenders} senders, ${o.drainWindow} in flight each)`, value: Math.round(queued / (fillMs / 1000)), unit: `msg/s stored (server CPU ${fillCores} cores; ${describeShares(fillThread)})` },
      { label: 'acks applied (nothing pushed again on reconnect) within', value: acksAppliedMs, unit: 'ms after the drained socket closed (probed each second)' },
      { label: 'server VmRSS with the backlog queued', value: Math.round(memoryQueued.rss / MiB), unit: 'MiB' },
    ];
    details = { queued, fillMs, fillCores, fillThread, drainCores, drainThread, drained, leftover, acksAppliedMs, memoryQueued };
    return { metrics, details };
  });
}

async function countRedelivered(wsUrl: string, device: { userId: string; token: string }, ctx: BenchContext): Promise<number> {
  const anomalies = new Anomalies();
  // No acks on this look: it must find nothing to ack anyway.
  const socket = await BenchSocket.open(wsUrl, device, { every: Number.MAX_SAFE_INTEGER, delayMs: 60_000 }, anomalies);
  await sleep(500);
  const count = socket.received;
  await socket.close();
  if (anomalies.count > 0) ctx.log(`drain: the look after the drain saw: ${anomalies.samples.join('; ')}`);
  return count;
}
