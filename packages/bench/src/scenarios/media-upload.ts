import { MiB, type ProcMemory } from '../proc-status.js';
import { registerUsers } from '../registration.js';
import { sleep, onFreshServer, type BenchContext, type Metric, type ScenarioResult } from '../scenario.js';

/**
 * Media memory: the server's VmRSS, sampled every 50 ms while a large file is uploaded, must not
 * grow by the file's size: uploads are streamed to disk, never held whole in memory.
 */
export async function runMediaUpload(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  return onFreshServer(ctx, 'media', 'Media upload memory', [], async ({ server, anomalies, startWorkers }) => {
    let metrics: Metric[] = [];
    let details: Record<string, unknown> = {};
    const [account] = await registerUsers(server.url, server.smsOutbox, 1);
    const workers = startWorkers(1);
    await sleep(o.settleS * 1000);
    const baseline = await server.memory();
    const size = o.mediaMib * MiB;
    ctx.log(`media: uploading ${o.mediaMib} MiB; server VmRSS ${Math.round(baseline.rss / MiB)} MiB before`);
    const samples: Array<{ atMs: number } & ProcMemory> = [];
    const started = performance.now();
    const sample = async () => samples.push({ atMs: Math.round(performance.now() - started), ...(await server.memory()) });
    const timer = setInterval(() => void sample(), 50);
    let upload: { status: number; body: string; hash: string; ms: number };
    try {
      upload = await workers[0]!.call('mediaUpload', { url: server.url, account, size }, 130_000);
    } finally {
      clearInterval(timer);
    }
    // The server may still be finishing the file when it answers: two more readings.
    await sleep(50);
    await sample();
    await sleep(50);
    await sample();
    server.assertAlive();
    if (upload.status !== 201) throw new Error(`POST /v1/media answered ${upload.status}: ${upload.body.slice(0, 300)}`);
    const answer = JSON.parse(upload.body) as { hash: string; size: number; mime: string };
    if (answer.hash !== upload.hash || answer.size !== size) {
      anomalies.add(`POST /v1/media answered ${upload.body.slice(0, 300)}; the bytes sent were ${size} with sha-256 ${upload.hash}`);
    }
    const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a), samples[0]!);
    const growth = peak.rss - baseline.rss;
    const gaps = samples.slice(1).map((s, i) => s.atMs - samples[i]!.atMs);
    ctx.log(`media: peak VmRSS ${Math.round(peak.rss / MiB)} MiB at ${peak.atMs} ms (+${(growth / MiB).toFixed(1)} MiB), ${samples.length} samples, upload ${Math.round(upload.ms)} ms`);
    metrics = [
      {
        label: `server VmRSS peak growth during a ${o.mediaMib} MiB upload`,
        value: Math.round((growth / MiB) * 10) / 10,
        unit: `MiB (peak ${Math.round(peak.rss / MiB)} MiB; ${samples.length} samples, largest gap ${Math.max(0, ...gaps)} ms)`,
        target: { text: `< ${o.mediaMib} MiB (the file's size)`, met: growth < size },
      },
      { label: 'upload throughput', value: Math.round(size / MiB / (upload.ms / 1000)), unit: 'MiB/s' },
    ];
    details = { size, baseline, peak, growth, uploadMs: upload.ms, answer, samples };
    return { metrics, details };
  });
}
