/**
 * `courier probe`: zero broken promises against a healthy server (registering its accounts once,
 * reusing them afterwards, serving its metrics), and a broken promise caught, with exit status 1,
 * against a test double that drops or repeats messages.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCourier, show, startCourier, type CliOptions } from './support/cli.js';
import { BrokenServer, type Fault } from './support/broken-server.js';
import { CourierServer } from './support/server.js';

let server: CourierServer;
let home = '';
/** `profiles` names the COURIER_HOME: the healthy server's probe accounts are kept apart from the test doubles'. */
const options = (profiles = 'courier'): CliOptions => ({ cwd: home, deadlineMs: 90_000, env: { COURIER_HOME: join(home, profiles) } });

before(async () => {
  server = await CourierServer.start();
  home = await mkdtemp(join(tmpdir(), 'courier-probe-test-'));
});

after(async () => {
  await server?.dispose();
  await rm(home, { recursive: true, force: true });
});

test('against a healthy server: every promise kept, exit 0', { timeout: 120_000 }, async () => {
  const result = await runCourier(
    ['probe', '--server', server.url, '--sms-outbox', server.smsOutbox, '--once', '30', '--rate', '30', '--interval', '1', '--deadline', '30'],
    options(),
  );
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, /registered probe account \+15550199001 \(profile "probe-1"\)/);
  assert.match(result.stdout, /sent 30\/30 received 30 delivered 30 read 30 pending 0 \| broken promises 0 \| latency ms p50\/p90\/p99: sent \d+\/\d+\/\d+/);
  assert.match(result.stdout, /every promise kept for 30 messages/);
  assert.doesNotMatch(result.stdout, /BROKEN/);
});

test('as a canary: reuses its accounts, serves Prometheus metrics, stops on Ctrl-C', { timeout: 120_000 }, async () => {
  // No --sms-outbox: the accounts registered by the previous test are reused.
  const probe = startCourier(['probe', '--server', server.url, '--rate', '20', '--interval', '0.5', '--metrics-port', '0'], options());
  const [, url] = await probe.waitFor('stdout', /metrics on (http:\S+)/, 30_000);
  await probe.waitFor('stdout', /sent [1-9]\d*\/\d+ received [1-9]/, 30_000);
  const text = await (await fetch(url!)).text();
  assert.match(text, /^courier_probe_messages_sent_total [1-9]/m, text);
  assert.match(text, /^courier_probe_anomalies_total\{kind="lost"\} 0$/m, text);
  assert.match(text, /^courier_probe_connected_accounts 3$/m, text);
  assert.match(text, /^courier_probe_latency_seconds_bucket\{le="\+Inf",stage="received"\} [1-9]/m, text);
  const result = await probe.stop('SIGINT');
  assert.equal(result.code, 0, probe.describe());
  assert.doesNotMatch(result.stdout, /registered probe account/, 'the accounts were reused');
  assert.doesNotMatch(result.stdout, /BROKEN/);
});

for (const [fault, kind] of [
  ['drop', 'lost'],
  ['duplicate', 'duplicate'],
] as [Fault, string][]) {
  test(`against a server that ${fault}s messages: the broken promise is named, exit 1`, { timeout: 60_000 }, async () => {
    const broken = await BrokenServer.start(fault, join(home, `${fault}-sms.jsonl`));
    try {
      const result = await runCourier(
        ['probe', '--server', broken.url, '--sms-outbox', join(home, `${fault}-sms.jsonl`), '--once', '40', '--rate', '40', '--deadline', '20'],
        options(`courier-${fault}`),
      );
      assert.equal(result.code, 1, show(result));
      assert.match(result.stdout, new RegExp(`BROKEN PROMISE \\(${kind}\\): message \\d+ from \\+1555\\d+ to \\+1555\\d+`));
      assert.match(result.stderr, new RegExp(`^courier probe: broken promise \\(${kind}\\)`));
    } finally {
      await broken.stop();
    }
  });
}

test('an account whose token the server refuses is registered again', { timeout: 60_000 }, async () => {
  // Someone registered probe-1's phone elsewhere: its saved token is dead.
  const { CourierClient } = await import('courier-chat-client/node');
  await CourierClient.register.request(server.url, '+15550199001');
  await CourierClient.register.verify(server.url, '+15550199001', await server.codeFor('+15550199001'));
  const result = await runCourier(['probe', '--server', server.url, '--sms-outbox', server.smsOutbox, '--once', '6', '--rate', '20'], options());
  assert.equal(result.code, 0, show(result));
  assert.match(result.stdout, /registered probe account \+15550199001 \(profile "probe-1"\)/);
  assert.doesNotMatch(result.stdout, /registered probe account \+15550199002/, 'the others are reused');
});

test('accounts that cannot be registered are explained, exit 2', { timeout: 30_000 }, async () => {
  const result = await runCourier(['probe', '--server', server.url, '--phones', '+15550198001,+15550198002', '--once', '1'], options());
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /probe account \+15550198001 is not registered .*--sms-outbox/);
});
