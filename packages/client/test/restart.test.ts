/**
 * The server goes away (kill -9, or a graceful SIGTERM) while messages are in flight and comes back
 * on the same port: clients reconnect by themselves, unanswered sends go again with the same id,
 * nothing is lost and the app sees nothing twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DisconnectInfo, PresenceEvent, ReceiptEvent, SentAnswer } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil, within } from './support/wait.js';

const env = sharedServer(['alice', 'bob']);

for (const how of ['kill', 'stop'] as const) {
  test(`100 messages across a ${how === 'kill' ? 'kill -9' : 'graceful stop'} and restart: none lost, none shown twice`, async () => {
    const a = clientOf(env.server, env.alice);
    const b = clientOf(env.server, env.bob);
    const seen = new Map<string, number>();
    const delivered = new Set<string>();
    const disconnects: DisconnectInfo[] = [];
    const tag = `${how}-${Date.now()}`;
    b.on('message', (m) => {
      if (m.body?.startsWith(tag)) seen.set(m.body, (seen.get(m.body) ?? 0) + 1);
    });
    a.on('receipt', (r: ReceiptEvent) => {
      if (r.status === 'delivered') for (const id of r.serverIds) delivered.add(id);
    });
    b.on('disconnected', (d) => void disconnects.push(d));
    try {
      await a.connect();
      await b.connect();
      const answers: Promise<SentAnswer>[] = [];
      for (let i = 0; i < 50; i++) answers.push(a.send({ to: env.bob.userId, body: `${tag} ${i}` }));
      await Promise.all(answers);
      // Half of them go while the server dies: some are stored and unanswered, some never arrive.
      for (let i = 50; i < 100; i++) answers.push(a.send({ to: env.bob.userId, body: `${tag} ${i}` }));
      await env.server.restart(how);
      const sent = await within('every send answered after the restart', Promise.all(answers), 30_000);
      assert.equal(new Set(sent.map((s) => s.serverId)).size, 100, 'one serverId per message');

      await waitUntil('bob has all 100', () => seen.size === 100, 30_000);
      await waitUntil('alice has all 100 delivered receipts', () => sent.every((s) => delivered.has(s.serverId)), 30_000);
      for (const [body, count] of seen) assert.equal(count, 1, `${body} shown ${count} times`);
      assert.ok(disconnects.length >= 1 && disconnects.every((d) => d.willReconnect));
      if (how === 'stop') {
        assert.ok(
          disconnects.some((d) => d.code === 1012),
          `a graceful stop closes sockets with 1012, got ${JSON.stringify(disconnects.map((d) => d.code))}`,
        );
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('presence subscriptions are renewed after a reconnection', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const seen: PresenceEvent[] = [];
  a.on('presence', (p) => {
    if (p.user === env.bob.userId) seen.push(p);
  });
  try {
    await a.connect();
    await b.connect();
    a.subscribePresence([env.bob.userId]);
    await waitUntil('bob is online', () => seen.some((p) => p.online));
    const before = seen.length;
    await env.server.restart('kill');
    await waitUntil('alice reconnects', () => a.state === 'ready' && b.state === 'ready', 20_000);
    await waitUntil('a presence of bob after the reconnection', () => seen.length > before && seen.at(-1)!.online, 10_000);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a server that stops answering without closing is detected by the heartbeat, and the client reconnects', async () => {
  const a = clientOf(env.server, env.alice, { heartbeatMs: 300, readyTimeoutMs: 1_000 });
  const disconnects: DisconnectInfo[] = [];
  a.on('disconnected', (d) => void disconnects.push(d));
  try {
    await a.connect();
    env.server.pause();
    try {
      await waitUntil('the heartbeat gives the connection up', () => disconnects.length > 0, 5_000);
    } finally {
      env.server.resume();
    }
    assert.equal(disconnects[0]!.willReconnect, true);
    assert.equal(disconnects[0]!.code, 4000);
    await waitUntil('it is ready again', () => a.state === 'ready', 15_000);
    assert.ok((await a.ping()) >= 0);
  } finally {
    await a.close();
  }
});
