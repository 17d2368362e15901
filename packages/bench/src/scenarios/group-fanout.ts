import { Histogram } from '../histogram.js';
import { HttpClient } from '../http-client.js';
import { registerUsers, type Account } from '../registration.js';
import { describeShares, ServerCpuMeter, sleep, waitFor, onFreshServer, type BenchContext, type Metric, type ScenarioResult } from '../scenario.js';
import { targets } from '../targets.js';
import { split } from '../worker-pool.js';
import { percentiles } from './throughput.js';

interface MemberStats {
  received: number;
  lastArrival: number;
  latency: ReturnType<Histogram['toJSON']>;
  anomalies: { count: number; samples: string[] };
}

/**
 * Scenario 5: one sender, a group whose members are all online; deliveries per second are
 * message frames received by members, from the first send to the last arrival.
 */
export async function runGroupFanout(ctx: BenchContext): Promise<ScenarioResult> {
  const o = ctx.options;
  return onFreshServer(ctx, 'fanout', '5. Group fan-out', ['--max-group-size', String(Math.max(1024, o.groupSize))], async ({ server, anomalies, startWorkers }) => {
    let metrics: Metric[] = [];
    let details: Record<string, unknown> = {};
    const accounts = await registerUsers(server.url, server.smsOutbox, o.groupSize, { concurrency: o.registerConcurrency });
    const [sender, ...members] = accounts as [Account, ...Account[]];
    const groupId = await createGroup(server.url, sender, members);
    ctx.log(`fanout: group ${groupId} of ${accounts.length} members; connecting ${members.length} members`);
    const workers = startWorkers(o.workers);
    await Promise.all(
      split(members, workers.length).map((slice, i) => workers[i]!.call('fanoutMembers', { wsUrl: server.wsUrl, accounts: slice, groupId, ack: ctx.ack }, 120_000)),
    );
    server.assertAlive();
    await sleep(500);

    const expected = o.groupMessages * members.length;
    ctx.log(`fanout: sending ${o.groupMessages} messages (${o.groupWindow} in flight) → ${expected} deliveries`);
    const meter = await ServerCpuMeter.start(server);
    const sent = await workers[0]!.call<{ firstSend: number; lastSent: number; sent: number }>(
      'fanoutSend',
      { wsUrl: server.wsUrl, account: sender, groupId, messages: o.groupMessages, window: o.groupWindow, bodyBytes: o.bodyBytes, ack: ctx.ack, timeoutMs: 5 * 60_000 },
      6 * 60_000,
    );
    let stats: MemberStats[] = [];
    const memberTotal = () => stats.reduce((n, s) => n + s.received, 0);
    const allArrived = await waitFor(async () => {
      server.assertAlive();
      stats = await Promise.all(workers.map((w) => w.call<MemberStats>('fanoutMemberStats', {}, 30_000)));
      return memberTotal() >= expected;
    }, 120_000, 200);
    if (!allArrived) anomalies.add(`members received ${memberTotal()} of ${expected} group messages within 120 s of the last sent answer`);
    const lastArrival = Math.max(...stats.map((s) => s.lastArrival));
    const seconds = (lastArrival - sent.firstSend) / 1000;
    // Measured until the stats poll noticed the last arrival: at most one poll (200 ms) late.
    const { serverCores, mainThread } = await meter.stop();
    const deliveriesPerSecond = memberTotal() / seconds;
    ctx.log(`fanout: ${memberTotal()} deliveries in ${seconds.toFixed(2)} s = ${Math.round(deliveriesPerSecond)}/s`);

    // Each member's ack sends a delivered receipt back to the sender: all must arrive.
    let receipts = 0;
    const receiptsBack = await waitFor(async () => {
      receipts = (await workers[0]!.call<{ deliveredReceipts: number }>('fanoutSenderStats', {}, 30_000)).deliveredReceipts;
      return receipts >= expected;
    }, 60_000, 200);
    const receiptsMs = Date.now() - lastArrival;
    if (!receiptsBack) anomalies.add(`the sender got ${receipts} of ${expected} delivered receipts within 60 s`);
    const senderStats = await workers[0]!.call<{ anomalies: { count: number; samples: string[] } }>('fanoutSenderStats', {}, 30_000);
    anomalies.addAll(senderStats.anomalies);
    for (const s of stats) anomalies.addAll(s.anomalies);
    await workers[0]!.call('fanoutSenderClose', {}, 30_000);
    await Promise.all(workers.map((w) => w.call('fanoutMembersClose', {}, 60_000)));
    server.assertAlive();

    const latency = new Histogram();
    for (const s of stats) latency.merge(s.latency);
    const lat = percentiles(latency);
    metrics = [
      {
        label: `group deliveries (${members.length} online members × ${o.groupMessages} messages)`,
        value: Math.round(deliveriesPerSecond),
        unit: `deliveries/s (server CPU ${serverCores} cores; ${describeShares(mainThread)})`,
        target: { text: `≥ ${targets.deliveriesPerSecond.toLocaleString('en-US')}/s`, met: allArrived && deliveriesPerSecond >= targets.deliveriesPerSecond },
      },
      { label: 'send → member receive p50 / p99', value: lat.p99, unit: `ms (p99; p50 ${lat.p50}, max ${lat.max})` },
      { label: 'group messages stored (sent answers)', value: Math.round(sent.sent / ((sent.lastSent - sent.firstSend) / 1000)), unit: 'messages/s' },
      { label: 'delivered receipts back at the sender', value: receipts, unit: `of ${expected}` },
    ];
    details = { groupId, serverCores, mainThread, members: members.length, messages: o.groupMessages, window: o.groupWindow, sent, expected, delivered: memberTotal(), seconds, latency: lat, receipts, receiptsMs };
    return { metrics, details };
  });
}

/** `POST /v1/groups` as the contract defines it; the creator is a member and the first admin. */
async function createGroup(baseUrl: string, creator: Account, members: Account[]): Promise<string> {
  const http = new HttpClient(baseUrl, 1);
  try {
    const response = await http.postJson(
      '/v1/groups',
      { name: 'bench fan-out', members: members.map((m) => m.userId) },
      { authorization: `Bearer ${creator.token}` },
    );
    if (response.status !== 201) throw new Error(`POST /v1/groups answered ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
    const group = response.body as { groupId: string; members: string[] };
    if (typeof group.groupId !== 'string' || group.members?.length !== members.length + 1) {
      throw new Error(`POST /v1/groups answered an unexpected group: ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    return group.groupId;
  } finally {
    http.close();
  }
}
