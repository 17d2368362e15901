/** `courier probe --server URL`: proves, against a live deployment, that it keeps the contract's promises. */
import { stdout } from 'node:process';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { checkUserIds } from '../client-support/phone.js';
import { defaultPhones, probeAccounts } from '../probe/probe-accounts.js';
import { ProbeMetrics } from '../probe/probe-metrics.js';
import { runProbe } from '../probe/probe-run.js';

export const summary = `probe --server <url>          check a live deployment end to end: nothing lost, duplicated or reordered, receipts back`;

const usage = `usage: courier probe --server <url> [options]

Registers (once) a few synthetic accounts, keeps a steady trickle of messages between them through
<url> (point it at the load balancer) and checks every promise of the protocol for each message:
answered by sent, received, not duplicated, in order, delivered and read receipts back, each within
--deadline. Prints a summary line every --interval seconds and each broken promise at once.

  --accounts <n>        synthetic accounts (default 3); profiles probe-1..probe-<n> in ~/.courier/
  --phones <p,p,...>    their phone numbers (default +15550199001, +15550199002, ...)
  --sms-outbox <file>   read registration codes from the server's file SMS provider; without it the
                        accounts must be registered already (courier register <phone> --profile probe-1)
                        or the codes are asked for at the terminal. Registration happens once.
  --rate <n>            messages per second, all accounts together (default 2)
  --deadline <s>        seconds a promise may take before it counts as broken (default 30)
  --interval <s>        seconds between summary lines (default 10)
  --once <n>            send n messages, then exit: 0 when every promise was kept, 1 at the first broken one
  --metrics-port <n>    serve Prometheus metrics on this port (0: any free port), to run as a canary
  --metrics-host <h>    address for the metrics (default 127.0.0.1)

Without --once it runs until Ctrl-C.`;

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, {
    accounts: { type: 'string' },
    phones: { type: 'string' },
    'sms-outbox': { type: 'string' },
    rate: { type: 'string' },
    deadline: { type: 'string' },
    interval: { type: 'string' },
    once: { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
  });
  if (shared.help) return void stdout.write(`${usage}\n`);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${usage}`);
  if (shared.server === undefined) throw new UsageError(`give the deployment to probe: --server <url> (or COURIER_SERVER)\n${usage}`);
  const server = serverOf(shared);
  const count = number(values.accounts, 'accounts', 3, { min: 2, integer: true });
  const phones = typeof values.phones === 'string' ? checkUserIds(values.phones.split(',').map((p) => p.trim())) : defaultPhones(count);
  if (phones.length < 2) throw new UsageError('--phones needs at least two numbers');
  const once = values.once === undefined ? undefined : number(values.once, 'once', 0, { min: 1, integer: true });
  const metricsPort = values['metrics-port'] === undefined ? undefined : number(values['metrics-port'], 'metrics-port', 0, { min: 0, integer: true });
  const print = (line: string) => void stdout.write(`${line}\n`);

  const accounts = await probeAccounts(phones, {
    server,
    smsOutbox: typeof values['sms-outbox'] === 'string' ? values['sms-outbox'] : undefined,
    log: print,
  });
  const metrics = new ProbeMetrics();
  const served = metricsPort === undefined ? undefined : await metrics.serve(typeof values['metrics-host'] === 'string' ? values['metrics-host'] : '127.0.0.1', metricsPort);
  if (served !== undefined) print(`metrics on ${served.url}`);

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    const outcome = await runProbe(
      {
        server,
        accounts,
        rate: number(values.rate, 'rate', 2, { min: 0.01 }),
        deadlineMs: number(values.deadline, 'deadline', 30, { min: 0.1 }) * 1000,
        once,
        summaryEveryMs: number(values.interval, 'interval', 10, { min: 0.1 }) * 1000,
        metrics,
        print,
      },
      stop.signal,
    );
    if (outcome.anomalies.length > 0) {
      const first = outcome.anomalies[0]!;
      throw new Error(`broken promise (${first.kind}): ${first.detail}`);
    }
    if (once !== undefined) print(`every promise kept for ${outcome.sent} messages`);
  } finally {
    await served?.close();
  }
}

function number(value: unknown, name: string, fallback: number, rule: { min: number; integer?: boolean }): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < rule.min || (rule.integer === true && !Number.isInteger(parsed))) {
    throw new UsageError(`--${name} takes ${rule.integer === true ? 'a whole number' : 'a number'} of at least ${rule.min}, not "${String(value)}"`);
  }
  return parsed;
}
