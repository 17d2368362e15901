#!/usr/bin/env node
// What one 1:1 message costs the shared stores of a cluster, for docs/scaling.md: PostgreSQL
// transactions and row writes, and Redis commands, per message. One `courier serve` on a fresh
// PostgreSQL database and a private redis-server; PAIRS pairs exchange MESSAGES messages in all,
// each sender keeping WINDOW in flight, acking as the SDK does (at 100 unacked, else after 10 ms),
// until every `delivered` receipt is back and acked. The node is stopped before the database's
// counters are read, so that its connections have flushed their statistics.
//
// usage: npm run build && node scripts/measure-store-costs.mjs [messages] [pairs] [window]
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and redis-server on the PATH.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { freePort } from '../packages/server/dist/test/support/cluster.js';
import { createTestDatabase } from '../packages/server/dist/test/support/postgres-database.js';
import { register } from '../packages/server/dist/test/support/registration.js';
import { spawnNode } from '../packages/server/dist/test/support/spawned-node.js';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const PAIRS = Number(process.argv[3] ?? 20);
const WINDOW = Number(process.argv[4] ?? 16);

const dir = await mkdtemp(join(tmpdir(), 'courier-costs-'));
const database = await createTestDatabase();
const redisPort = await freePort();
const redisServer = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const redis = new Redis({ port: redisPort, host: '127.0.0.1' });
// Refused until redis-server listens; ioredis retries, and the PING below waits for it.
redis.on('error', (err) => {
  if (redis.status === 'ready') console.error(err);
});
await redis.ping();
const args = ['--port', '0', '--database-url', database.url, '--redis-url', `redis://127.0.0.1:${redisPort}`, '--data-dir', dir, '--sms-outbox', join(dir, 'sms.jsonl'), '--no-rate-limits'];

async function pgCounters() {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT xact_commit::int AS commits, tup_inserted::int AS inserted, tup_updated::int AS updated, tup_deleted::int AS deleted FROM pg_stat_database WHERE datname = current_database()',
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

async function redisCalls() {
  const text = await redis.info('commandstats');
  const calls = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

async function stop(node) {
  node.process.kill('SIGTERM');
  await node.exited;
}

/** A device that acks as the SDK does and counts what it receives. */
function device(url, token, onFrame) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let unacked = 0;
    let lastSeq = 0;
    let timer;
    const ack = () => {
      clearTimeout(timer);
      timer = undefined;
      unacked = 0;
      socket.send(JSON.stringify({ type: 'ack', upTo: lastSeq }));
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
    socket.on('error', reject);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === 'ready') resolve(socket);
      if (typeof frame.seq === 'number') {
        lastSeq = frame.seq;
        if (++unacked >= 100) ack();
        else timer ??= setTimeout(ack, 10);
      }
      onFrame(frame);
    });
  });
}

try {
  // Registration and a first connection of each device, then a restart: the counters read next
  // start after all that.
  let node = await spawnNode(args);
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) pairs.push([await register(node.url, join(dir, 'sms.jsonl')), await register(node.url, join(dir, 'sms.jsonl'))]);
  await stop(node);
  const pgBefore = await pgCounters();
  node = await spawnNode(args);
  const redisBefore = await redisCalls();

  const perPair = Math.ceil(MESSAGES / PAIRS);
  let receipts = 0;
  const started = performance.now();
  const sockets = [];
  await Promise.all(
    pairs.map(async ([alice, bob]) => {
      let sent = 0;
      let inFlight = 0;
      let wake;
      const sender = await device(node.wsUrl, alice.token, (frame) => {
        if (frame.type === 'receipt' && frame.status === 'delivered') {
          receipts += frame.serverIds.length;
          inFlight -= frame.serverIds.length;
          wake?.();
        }
      });
      const recipient = await device(node.wsUrl, bob.token, () => {});
      sockets.push(sender, recipient);
      while (sent < perPair) {
        while (inFlight >= WINDOW) await new Promise((resolve) => (wake = resolve));
        sender.send(JSON.stringify({ type: 'send', id: `m-${sent}`, to: bob.userId, body: 'x'.repeat(100) }));
        sent++;
        inFlight++;
      }
      while (inFlight > 0) await new Promise((resolve) => (wake = resolve));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await sleep(100); // the last acks
  const redisAfter = await redisCalls();
  const [entry] = await redis.keys('courier:dev:*');
  const directoryEntryBytes = entry === undefined ? undefined : await redis.call('MEMORY', 'USAGE', entry);
  for (const socket of sockets) socket.close();
  await stop(node);
  const pgAfter = await pgCounters();

  const messages = perPair * PAIRS;
  // What stays behind per message once everything is acked: rows kept for retries and reads.
  const sizes = new pg.Client({ connectionString: database.url });
  await sizes.connect();
  const kept = {};
  for (const table of ['idempotency', 'read_tracking', 'inbox']) {
    const { rows } = await sizes.query(`SELECT count(*)::int AS n, pg_total_relation_size('${table}')::bigint AS bytes FROM ${table}`);
    kept[table] = { rowsPerMessage: Math.round((rows[0].n / messages) * 100) / 100, bytesPerRow: rows[0].n === 0 ? 0 : Math.round(Number(rows[0].bytes) / rows[0].n) };
  }
  await sizes.end();
  const per = (n) => Math.round((n / messages) * 100) / 100;
  const redisDelta = Object.fromEntries(Object.entries(redisAfter).map(([cmd, calls]) => [cmd, per(calls - (redisBefore[cmd] ?? 0))]).filter(([, v]) => v > 0));
  console.log(JSON.stringify({
    messages,
    pairs: PAIRS,
    window: WINDOW,
    receipts,
    seconds: Math.round(seconds * 10) / 10,
    messagesPerSecond: Math.round(messages / seconds),
    perMessage: {
      pgCommits: per(pgAfter.commits - pgBefore.commits),
      rowsInserted: per(pgAfter.inserted - pgBefore.inserted),
      rowsUpdated: per(pgAfter.updated - pgBefore.updated),
      rowsDeleted: per(pgAfter.deleted - pgBefore.deleted),
      redisCalls: redisDelta,
    },
    kept,
    directoryEntryBytes,
    loadAverage: (await import('node:os')).loadavg().map((n) => Math.round(n * 10) / 10),
  }, null, 2));
} finally {
  redis.disconnect();
  redisServer.kill('SIGKILL');
  await database.drop();
  await rm(dir, { recursive: true, force: true });
}
