/**
 * `npm run bench`: starts Courier servers (one per scenario, embedded store, durable commits) and
 * measures them with this package's own load generator; prints a table and writes the results
 * as JSON under bench-results/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contention, describe } from './contention.js';
import { probeFsync } from './disk-probe.js';
import { machineInfo } from './machine.js';
import { parseBenchArgs, usage, UsageError, type BenchOptions, type ScenarioName } from './options.js';
import { anomalyReport, profileReport, resultsTable } from './report.js';
import { BenchContext, type ScenarioResult } from './scenario.js';
import { runGroupFanout } from './scenarios/group-fanout.js';
import { runIdleSockets } from './scenarios/idle-sockets.js';
import { runMediaUpload } from './scenarios/media-upload.js';
import { runOfflineDrain } from './scenarios/offline-drain.js';
import { runSoak } from './scenarios/soak.js';
import { runDevices, runLatency, runThroughput } from './scenarios/throughput.js';
import { targets } from './targets.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

const scenarios: Record<ScenarioName, { title: string; run: (ctx: BenchContext) => Promise<ScenarioResult> }> = {
  throughput: { title: '1. 1:1 throughput', run: runThroughput },
  latency: { title: '2. Latency at half load', run: runLatency },
  drain: { title: '4. Offline drain', run: runOfflineDrain },
  sockets: { title: '3. Idle sockets', run: runIdleSockets },
  media: { title: 'Media upload memory', run: runMediaUpload },
  fanout: { title: '5. Group fan-out', run: runGroupFanout },
  soak: { title: 'Soak at half load', run: runSoak },
  devices: { title: '6. 1:1 with 3 devices per account', run: runDevices },
};

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${usage()}`);
      return 2;
    }
    throw err;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(repoRoot, 'bench-results');
  const profileRoot = join(resultsDir, `profiles-${stamp}`);
  const ctx = new BenchContext(options, profileRoot);
  const machine = { ...machineInfo(), fsync: probeFsync(), atStart: contention() };
  ctx.log(`${machine.nproc} CPUs (${machine.cpuModel}), ${(machine.memTotalBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}; scenarios: ${options.only.join(', ')}`);
  ctx.log(`disk: write + fsync p50 ${machine.fsync.p50Ms} ms, p99 ${machine.fsync.p99Ms} ms; ${describe(machine.atStart)}`);
  if (machine.atStart.loadAverage1m > machine.nproc / 2) ctx.log('note: the machine is busy with other work, which skews the results');

  const results: ScenarioResult[] = [];
  const started = Date.now();
  for (const name of options.only) {
    const scenario = scenarios[name];
    const before = contention();
    try {
      const result = await scenario.run(ctx);
      const after = contention();
      results.push({ ...result, contention: { before, after } });
      ctx.log(`${name} done; before: ${describe(before)}; after: ${describe(after)}`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      ctx.log(`${name} did not complete: ${message}`);
      results.push({ name, title: scenario.title, metrics: [], details: {}, anomalies: { count: 0, samples: [] }, error: message });
    }
  }

  const out = options.out ?? join(resultsDir, `${stamp}.json`);
  await mkdir(join(out, '..'), { recursive: true });
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  await writeFile(out, `${JSON.stringify({ startedAt: new Date(started).toISOString(), durationS: Math.round((Date.now() - started) / 1000), command, machine, options, targets, results }, null, 2)}\n`);

  process.stdout.write(`\n${resultsTable(results)}\n`);
  const anomalies = anomalyReport(results);
  if (anomalies !== '') process.stdout.write(`\n${anomalies}\n`);
  for (const result of results) {
    if (result.profile) process.stdout.write(`\n${profileReport(`${result.title}, main thread`, result.profile)}\n`);
    for (const thread of result.threadProfiles ?? []) process.stdout.write(`\n${profileReport(`${result.title}, worker thread`, thread)}\n`);
  }
  process.stdout.write(`\nresults: ${out}\n(${Math.round((Date.now() - started) / 1000)} s in all)\n`);
  const failed = results.some((r) => r.error !== undefined || r.anomalies.count > 0);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
