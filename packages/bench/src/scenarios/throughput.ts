import type { Anomalies } from '../anomalies.js';
import { Histogram } from '../histogram.js';
import { linkDevices, registerUsers } from '../registration.js';
import type { ServerProcess } from '../server-process.js';
import { describeShares, onFreshServer, ServerCpuMeter, type BenchContext, type MainThreadShares, type Metric, type ScenarioResult } from '../scenario.js';
import { split, type WorkerHandle } from '../worker-pool.js';
import type { PairSpec, PairsStepArgs, PairsStepResult } from './pairs-worker.js';
import { targets } from '../targets.js';

interface StepSummary {
  window?: number;
  ratePerSecond?: number;
  messagesPerSecond: number;
  sentPerSecond: number;
  completedInWindow: number;
  sentTotal: number;
  completedTotal: number;
  skipped: number;
  worstTickLagMs: number;
  /** CPU used during the step, in cores (1 = one core busy all the time). */
  serverCores: number;
  mainThread: MainThreadShares;
  generatorCores: number;
  receiveMs: Percentiles;
  sentMs: Percentiles;
  deliveredMs: Percentiles;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function percentiles(histogram: Histogram): Percentiles {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: histogram.count,
    p50: ms(histogram.quantile(0.5)),
    p99: ms(histogram.quantile(0.99)),
    p999: ms(histogram.quantile(0.999)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
  };
}

/** Scenario 1: the most 1:1 messages per second, each one sent, received, acked and its receipt back. */
export async function runThroughput(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  return withPairs(ctx, 'throughput', async (server, workers, anomalies) => {
    const steps = await windowSteps(ctx, 'throughput', server, workers, anomalies);
    const best = steps.reduce((a, b) => (b.messagesPerSecond > a.messagesPerSecond ? b : a));
    ctx.maxThroughput = best.messagesPerSecond;
    const metrics: Metric[] = [
      {
        label: `1:1 throughput (best of windows ${o.windows.join('/')} per pair: ${best.window})`,
        value: Math.round(best.messagesPerSecond),
        unit: 'msg/s',
        target: { text: `≥ ${targets.throughput.toLocaleString('en-US')} msg/s`, met: best.messagesPerSecond >= targets.throughput },
      },
      ...loadMetrics(best),
    ];
    return { title: '1. 1:1 throughput', metrics, details: { pairs: o.pairs, steps } };
  });
}

/**
 * Scenario 6: the 1:1 scenario with 3 devices per account (the primary and 2 linked, all
 * connected): each message is stored for the recipient's 3 devices and the sender's 2 others,
 * all of them ack, and the sending device waits for the one delivered receipt.
 */
export async function runDevices(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  return withPairs(ctx, 'devices', async (server, workers, anomalies) => {
    const steps = await windowSteps(ctx, 'devices', server, workers, anomalies);
    const best = steps.reduce((a, b) => (b.messagesPerSecond > a.messagesPerSecond ? b : a));
    const metrics: Metric[] = [
      {
        label: `1:1 throughput, 3 devices per account (best of windows ${o.windows.join('/')} per pair: ${best.window})`,
        value: Math.round(best.messagesPerSecond),
        unit: 'msg/s (each stored in 5 inboxes)',
      },
      ...loadMetrics(best),
    ];
    return { title: '6. 1:1 with 3 devices per account', metrics, details: { pairs: o.pairs, devicesPerAccount: 3, steps } };
  }, 2);
}

/** One step per window size, stopping once past the maximum. */
async function windowSteps(ctx: BenchContext, name: string, server: ServerProcess, workers: WorkerHandle[], anomalies: Anomalies): Promise<StepSummary[]> {
  const o = ctx.options;
  const steps: StepSummary[] = [];
  for (const window of o.windows) {
    ctx.log(`${name}: window ${window} per pair, ${o.warmupS} s warm-up + ${o.durationS} s measured`);
    const step = await runStep(server, workers, {
      mode: 'window',
      window,
      ratePerSecond: 0,
      totalPairs: o.pairs,
      maxInFlightPerPair: window,
      warmupMs: o.warmupS * 1000,
      durationMs: o.durationS * 1000,
      settleMs: 30_000,
      bodyBytes: o.bodyBytes,
    }, anomalies);
    steps.push({ window, ...step });
    ctx.log(
      `${name}: window ${window}: ${Math.round(step.messagesPerSecond)} msg/s, receive p50 ${step.receiveMs.p50} ms p99 ${step.receiveMs.p99} ms; ` +
        `CPU: server ${step.serverCores} cores (${describeShares(step.mainThread)}), generator ${step.generatorCores} cores`,
    );
    if (anomalies.count > 0) break;
    // Past the knee more in flight only queues: stop once a step is clearly below the best.
    const bestSoFar = Math.max(...steps.map((s) => s.messagesPerSecond));
    if (step.messagesPerSecond < 0.9 * bestSoFar) {
      ctx.log(`${name}: window ${window} is past the maximum; no larger windows`);
      break;
    }
  }
  return steps;
}

function loadMetrics(best: StepSummary): Metric[] {
  return [
    { label: 'at that load: send → receive p50 / p99 / p999', value: best.receiveMs.p99, unit: `ms (p99; p50 ${best.receiveMs.p50}, p999 ${best.receiveMs.p999})` },
    { label: 'at that load: send → delivered receipt p50 / p99', value: best.deliveredMs.p99, unit: `ms (p99; p50 ${best.deliveredMs.p50})` },
    { label: 'at that load: CPU of the server / of the generator', value: best.serverCores, unit: `cores (generator ${best.generatorCores} cores)` },
    { label: 'at that load: the server\'s event-loop thread', value: Math.round(best.mainThread.onCpu * 100), unit: `% on CPU (${describeShares(best.mainThread)})` },
  ];
}

/** Scenario 2: latency at a fixed rate, half of the measured maximum (open loop). */
export async function runLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  const rate = halfLoad(ctx, 'latency');
  return withPairs(ctx, 'latency', async (server, workers, anomalies) => {
    ctx.log(`latency: ${rate} msg/s over ${o.pairs} pairs, ${o.warmupS} s warm-up + ${o.latencyDurationS} s measured`);
    const step = await runStep(server, workers, {
      mode: 'rate',
      window: 0,
      ratePerSecond: rate,
      totalPairs: o.pairs,
      // Far above what half load needs; reaching it means the server fell behind.
      maxInFlightPerPair: 5000,
      warmupMs: o.warmupS * 1000,
      durationMs: o.latencyDurationS * 1000,
      settleMs: 30_000,
      bodyBytes: o.bodyBytes,
    }, anomalies);
    ctx.log(
      `latency: receive p50 ${step.receiveMs.p50} ms p99 ${step.receiveMs.p99} ms p999 ${step.receiveMs.p999} ms; ` +
        `CPU: server ${step.serverCores} cores (${describeShares(step.mainThread)}), generator ${step.generatorCores} cores; worst generator tick lag ${step.worstTickLagMs} ms`,
    );
    const metrics: Metric[] = [
      { label: `fixed rate (${o.rate === undefined ? 'half the measured maximum' : '--rate'}), achieved`, value: Math.round(step.sentPerSecond), unit: `msg/s (asked ${rate})` },
      {
        label: 'send → receive p99',
        value: step.receiveMs.p99,
        unit: 'ms',
        target: { text: `≤ ${targets.latencyP99Ms} ms`, met: step.receiveMs.p99 <= targets.latencyP99Ms && step.skipped === 0 },
      },
      { label: 'send → receive p50 / p999 / max', value: step.receiveMs.p50, unit: `ms (p50; p999 ${step.receiveMs.p999}, max ${step.receiveMs.max})` },
      { label: 'send → sent (first tick) p50 / p99', value: step.sentMs.p99, unit: `ms (p99; p50 ${step.sentMs.p50})` },
      { label: 'send → delivered receipt p50 / p99', value: step.deliveredMs.p99, unit: `ms (p99; p50 ${step.deliveredMs.p50})` },
      { label: 'CPU of the server / of the generator', value: step.serverCores, unit: `cores (generator ${step.generatorCores} cores)` },
      { label: 'the server\'s event-loop thread', value: Math.round(step.mainThread.onCpu * 100), unit: `% on CPU (${describeShares(step.mainThread)})` },
    ];
    if (step.skipped > 0) metrics.push({ label: 'sends skipped: a pair had 5,000 in flight (server behind)', value: step.skipped, unit: 'messages' });
    return { title: '2. Latency at half load', metrics, details: { pairs: o.pairs, rate, step } };
  });
}

/** --rate, or half of the maximum the throughput scenario measured in this run. */
export function halfLoad(ctx: BenchContext, scenario: string): number {
  const rate = ctx.options.rate ?? (ctx.maxThroughput === undefined ? undefined : Math.floor(ctx.maxThroughput / 2));
  if (rate === undefined || rate <= 0) {
    throw new Error(`the ${scenario} scenario needs a rate: run it with the throughput scenario, or give --rate <msg/s>`);
  }
  return rate;
}

export async function withPairs(
  ctx: BenchContext,
  name: 'throughput' | 'latency' | 'soak' | 'devices',
  body: (server: ServerProcess, workers: WorkerHandle[], anomalies: Anomalies) => Promise<Pick<ScenarioResult, 'title' | 'metrics' | 'details'>>,
  /** Devices linked to each account besides its primary, all connected (0: one device per account). */
  linkedPerAccount = 0,
): Promise<ScenarioResult> {
  const o = ctx.options;
  // The body names the scenario's title; `name` stands in until it does.
  return onFreshServer(ctx, name, name, [], async ({ server, anomalies, startWorkers }) => {
    const started = Date.now();
    const accounts = await registerUsers(server.url, server.smsOutbox, 2 * o.pairs, { concurrency: o.registerConcurrency });
    ctx.log(`${name}: registered ${accounts.length} users in ${Date.now() - started} ms`);
    const linked = linkedPerAccount === 0 ? undefined : await linkDevices(server.url, accounts, linkedPerAccount);
    if (linked !== undefined) ctx.log(`${name}: linked ${linkedPerAccount} more devices to each account`);
    const pairs: PairSpec[] = Array.from({ length: o.pairs }, (_, i) => ({
      sender: accounts[2 * i]!,
      recipient: accounts[2 * i + 1]!,
      ...(linked !== undefined && { linked: { sender: linked[2 * i]!, recipient: linked[2 * i + 1]! } }),
    }));
    const workers = startWorkers(Math.min(o.workers, o.pairs));
    await Promise.all(
      split(pairs, workers.length).map((slice, i) =>
        workers[i]!.call('pairsConnect', { wsUrl: server.wsUrl, pairs: slice, ack: ctx.ack, workerIndex: i }, 60_000),
      ),
    );
    server.assertAlive();
    const result = await body(server, workers, anomalies);
    const closed = await Promise.all(workers.map((w) => w.call<{ anomalies: { count: number; samples: string[] } }>('pairsClose', {}, 30_000)));
    // Anomalies of the steps were counted already; closing adds only those seen afterwards.
    const afterSteps = closed.reduce((n, c) => n + c.anomalies.count, 0) - anomalies.count;
    if (afterSteps > 0) anomalies.add(`${afterSteps} more anomalies after the last step (e.g. sockets closed by the server)`);
    server.assertAlive();
    return result;
  });
}

export async function runStep(server: ServerProcess, workers: WorkerHandle[], args: PairsStepArgs, anomalies: Anomalies): Promise<Omit<StepSummary, 'window' | 'ratePerSecond'>> {
  const timeoutMs = args.warmupMs + args.durationMs + args.settleMs + 30_000;
  const meter = await ServerCpuMeter.start(server);
  const results = await Promise.all(workers.map((w) => w.call<PairsStepResult>('pairsStep', args, timeoutMs)));
  server.assertAlive();
  const { serverCores, mainThread } = await meter.stop();
  const generatorCores = results.reduce((n, r) => n + r.cpuMs / r.wallMs, 0);
  const receive = new Histogram();
  const sent = new Histogram();
  const delivered = new Histogram();
  let completedInWindow = 0;
  let sentInWindow = 0;
  let sentTotal = 0;
  let completedTotal = 0;
  let skipped = 0;
  let worstTickLagMs = 0;
  for (const r of results) {
    receive.merge(r.receive);
    sent.merge(r.sent);
    delivered.merge(r.delivered);
    completedInWindow += r.completedInWindow;
    sentInWindow += r.sentInWindow;
    sentTotal += r.sentTotal;
    completedTotal += r.completedTotal;
    skipped += r.skipped;
    worstTickLagMs = Math.max(worstTickLagMs, r.worstTickLagMs);
    anomalies.addAll(r.anomalies);
  }
  return {
    messagesPerSecond: completedInWindow / (args.durationMs / 1000),
    sentPerSecond: sentInWindow / (args.durationMs / 1000),
    completedInWindow,
    sentTotal,
    completedTotal,
    skipped,
    worstTickLagMs: Math.round(worstTickLagMs * 10) / 10,
    serverCores,
    mainThread,
    generatorCores: Math.round(generatorCores * 100) / 100,
    receiveMs: percentiles(receive),
    sentMs: percentiles(sent),
    deliveredMs: percentiles(delivered),
  };
}
