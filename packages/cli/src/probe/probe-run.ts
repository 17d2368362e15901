/**
 * `courier probe`: a few synthetic accounts keep a steady trickle of messages going around a ring
 * (account i sends to account i+1) through whatever URL they are given (the load balancer), and a
 * PromiseChecker checks every contract promise for each message. Live summary lines, Prometheus
 * metrics, and with `once` an exit at the first broken promise or once `once` messages completed.
 */
import { randomBytes } from 'node:crypto';
import { CourierClient, type MessageEvent } from 'courier-chat-client/node';
import { clock } from '../client-support/format.js';
import type { Profile } from '../client-support/profile.js';
import { ProbeMetrics } from './probe-metrics.js';
import { PromiseChecker, type Anomaly, type Stage } from './promise-checker.js';

export interface ProbeSettings {
  server: string;
  accounts: Profile[];
  /** Messages per second, all senders together. */
  rate: number;
  /** How long each promise may take before it counts as broken. */
  deadlineMs: number;
  /** Send this many messages, then exit: 0 on success, 1 at the first broken promise. */
  once: number | undefined;
  summaryEveryMs: number;
  metrics: ProbeMetrics;
  print(line: string): void;
}

export interface ProbeOutcome {
  anomalies: Anomaly[];
  sent: number;
}

/** The body of a probe message: which run, which pair, which number. Other runs' messages are drained and ignored. */
const bodyPattern = /^courier-probe (\S+) (\d+)$/;

export async function runProbe(settings: ProbeSettings, stopSignal: AbortSignal): Promise<ProbeOutcome> {
  const run = randomBytes(4).toString('hex');
  const anomalies: Anomaly[] = [];
  // Once finished, closing the clients rejects the sends still in flight: that is no broken promise.
  let finished = false;
  let failFast: ((anomaly: Anomaly) => void) | undefined;
  const checker = new PromiseChecker(
    settings.deadlineMs,
    (anomaly) => {
      if (finished) return;
      anomalies.push(anomaly);
      settings.metrics.anomalies.inc({ kind: anomaly.kind });
      settings.print(`${clock()} BROKEN PROMISE (${anomaly.kind}): ${anomaly.detail}`);
      failFast?.(anomaly);
    },
    (stage, ms) => settings.metrics.observe(stage, ms),
  );

  const clients = settings.accounts.map((account) => new CourierClient({ url: settings.server, token: account.token, backoff: { initialDelayMs: 200, maxDelayMs: 5_000 } }));
  let connected = 0;
  for (const [index, client] of clients.entries()) {
    const me = settings.accounts[index]!.userId;
    client.on('message', (m: MessageEvent) => {
      const match = bodyPattern.exec(m.body ?? '');
      if (match === null || match[1] !== run) return; // someone else's message, or an earlier run's: acked and ignored
      const before = checker.counts.received;
      checker.received(m.from, me, Number(match[2]), m.serverId);
      if (checker.counts.received > before) settings.metrics.received.inc();
      client.read([m.serverId]);
    });
    client.on('receipt', (r) => {
      const before = { delivered: checker.counts.delivered, read: checker.counts.read };
      checker.receipt(r.status, r.serverIds);
      settings.metrics.receipts.inc({ status: 'delivered' }, checker.counts.delivered - before.delivered);
      settings.metrics.receipts.inc({ status: 'read' }, checker.counts.read - before.read);
    });
    client.on('ready', () => settings.metrics.connected.set(++connected));
    client.on('disconnected', (d) => {
      if (connected > 0) settings.metrics.connected.set(--connected);
      if (d.willReconnect) settings.print(`${clock()} ${me} disconnected (${d.error ?? `close ${d.code}`}); reconnecting`);
    });
    client.on('revoked', () => settings.print(`${clock()} ${me}: token refused (registered again elsewhere?); run the probe again to register it`));
  }
  await Promise.all(clients.map((c) => c.connect()));
  settings.print(`${clock()} probing ${settings.server} with ${clients.length} accounts, ${settings.rate} messages/s, deadline ${settings.deadlineMs / 1000} s (run ${run})`);

  const counters = new Map<string, number>();
  let sentCount = 0;
  let index = 0;
  const sendOne = () => {
    const from = index % clients.length;
    const to = (from + 1) % clients.length;
    index++;
    const fromId = settings.accounts[from]!.userId;
    const toId = settings.accounts[to]!.userId;
    const key = `${fromId}>${toId}`;
    const n = (counters.get(key) ?? 0) + 1;
    counters.set(key, n);
    const clientId = `probe-${run}-${from}-${n}`;
    checker.sending(clientId, fromId, toId, n);
    sentCount++;
    clients[from]!.send({ id: clientId, to: toId, body: `courier-probe ${run} ${n}` }).then(
      (sent) => {
        checker.sent(clientId, sent.serverId);
        settings.metrics.sent.inc();
      },
      (err: unknown) => checker.sendFailed(clientId, err instanceof Error ? err.message : String(err)),
    );
  };

  const summary = () => {
    const c = checker.counts;
    const p = (stage: Stage) =>
      [0.5, 0.9, 0.99].map((q) => checker.latency.quantile(stage, q)).map((ms) => (ms === undefined ? '-' : ms.toFixed(0))).join('/');
    settings.metrics.pending.set(checker.pending);
    settings.print(
      `${clock()} sent ${c.sent}/${c.sending} received ${c.received} delivered ${c.delivered} read ${c.read} pending ${checker.pending} | ` +
        `broken promises ${c.anomalies} | latency ms p50/p90/p99: sent ${p('sent')} received ${p('received')} delivered ${p('delivered')} read ${p('read')}`,
    );
  };

  const outcome = await new Promise<ProbeOutcome>((resolve) => {
    const timers: ReturnType<typeof setInterval>[] = [];
    const finish = () => {
      if (finished) return;
      finished = true;
      timers.forEach(clearInterval);
      summary();
      resolve({ anomalies, sent: sentCount });
    };
    if (settings.once !== undefined) failFast = () => finish();
    stopSignal.addEventListener('abort', finish, { once: true });
    timers.push(
      setInterval(() => {
        if (settings.once !== undefined && sentCount >= settings.once) return;
        sendOne();
      }, 1000 / settings.rate),
      setInterval(() => {
        checker.sweep();
        if (settings.once !== undefined && sentCount >= settings.once && checker.pending === 0 && anomalies.length === 0) finish();
      }, 100),
      setInterval(summary, settings.summaryEveryMs),
    );
  });
  await Promise.all(clients.map((c) => c.close()));
  return outcome;
}
