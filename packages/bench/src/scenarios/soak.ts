import { readProcMemory, MiB } from '../proc-status.js';
import { describeShares, type BenchContext, type Metric, type ScenarioResult } from '../scenario.js';
import { targets } from '../targets.js';
import { halfLoad, runStep, withPairs, type Percentiles } from './throughput.js';

interface SoakInterval {
  /** Seconds since the soak started, at the end of this interval. */
  atS: number;
  sentPerSecond: number;
  messagesPerSecond: number;
  receiveMs: Percentiles;
  skipped: number;
  rssMiB: number;
  serverCores: number;
  anomalies: number;
}

/**
 * The soak: the latency scenario's open-loop load (half the measured maximum) held for a long
 * time (--soak-duration), measured in back-to-back intervals (--soak-interval): the server's RSS
 * and the send → receive p99 of each interval, and every contract anomaly. RSS growth is
 * counted from the end of the first interval (the warm-up: JIT, pools and caches filled).
 */
export async function runSoak(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  const rate = halfLoad(ctx, 'soak');
  const intervalS = Math.max(1, Math.min(o.soakIntervalS, o.soakDurationS));
  const count = Math.max(2, Math.round(o.soakDurationS / intervalS));
  return withPairs(ctx, 'soak', async (server, workers, anomalies) => {
    ctx.log(`soak: ${rate} msg/s over ${o.pairs} pairs for ${count} intervals of ${intervalS} s`);
    const intervals: SoakInterval[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const before = anomalies.count;
      const step = await runStep(server, workers, {
        mode: 'rate',
        window: 0,
        ratePerSecond: rate,
        totalPairs: o.pairs,
        maxInFlightPerPair: 5000,
        warmupMs: 0,
        durationMs: intervalS * 1000,
        settleMs: 30_000,
        bodyBytes: o.bodyBytes,
      }, anomalies);
      const rss = (await readProcMemory(server.pid)).rss;
      const interval: SoakInterval = {
        atS: Math.round((performance.now() - started) / 1000),
        sentPerSecond: Math.round(step.sentPerSecond),
        messagesPerSecond: Math.round(step.messagesPerSecond),
        receiveMs: step.receiveMs,
        skipped: step.skipped,
        rssMiB: Math.round((rss / MiB) * 10) / 10,
        serverCores: step.serverCores,
        anomalies: anomalies.count - before,
      };
      intervals.push(interval);
      ctx.log(
        `soak: ${interval.atS} s: ${interval.sentPerSecond} msg/s, receive p99 ${interval.receiveMs.p99} ms, RSS ${interval.rssMiB} MiB, ` +
          `${interval.anomalies} anomalies; ${describeShares(step.mainThread)}`,
      );
    }
    const warm = intervals[0]!;
    const last = intervals[intervals.length - 1]!;
    const growth = (last.rssMiB - warm.rssMiB) / warm.rssMiB;
    const p99s = intervals.slice(1).map((interval) => interval.receiveMs.p99).sort((a, b) => a - b);
    const medianP99 = p99s[Math.floor(p99s.length / 2)]!;
    const worstP99 = p99s[p99s.length - 1]!;
    const skipped = intervals.reduce((n, interval) => n + interval.skipped, 0);
    const metrics: Metric[] = [
      { label: `held load (${o.rate === undefined ? 'half the measured maximum' : '--rate'}) for ${count * intervalS} s`, value: rate, unit: 'msg/s' },
      {
        label: 'server RSS growth after the first interval',
        value: Math.round(growth * 1000) / 10,
        unit: `% (${warm.rssMiB} → ${last.rssMiB} MiB)`,
        target: { text: `≤ ${targets.soakRssGrowthPercent} %`, met: growth * 100 <= targets.soakRssGrowthPercent },
      },
      {
        label: `send → receive p99 per ${intervalS} s interval: median / worst`,
        value: medianP99,
        unit: `ms (worst ${worstP99} ms, first interval ${warm.receiveMs.p99} ms)`,
        target: { text: `worst ≤ 2 × median`, met: worstP99 <= 2 * medianP99 && skipped === 0 },
      },
    ];
    if (skipped > 0) metrics.push({ label: 'sends skipped: a pair had 5,000 in flight (server behind)', value: skipped, unit: 'messages' });
    return { title: 'Soak at half load', metrics, details: { pairs: o.pairs, rate, intervalS, intervals } };
  });
}
