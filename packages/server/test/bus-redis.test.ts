import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { directoryKey, RedisBus } from '../src/adapters/bus/redis/redis-bus.js';
import type { DeviceAddress } from '../src/domain/device.js';
import { BusRecorder } from './support/bus-recorder.js';
import { runBusContract } from './support/bus-contract.js';

const URL = 'redis://127.0.0.1:6379';
const PREFIX = `courier-test-${randomBytes(6).toString('hex')}:`;
/** A user's primary device. */
const dev = (userId: string): DeviceAddress => ({ userId, deviceId: 1 });
/** Short, so the expiry tests take well under a second. */
const TTL_MS = 600;

const errors: Error[] = [];
const redis = new Redis(URL);

function open(nodeId: string, onError: (err: Error) => void = (err) => errors.push(err)): RedisBus {
  return new RedisBus({ url: URL, nodeId, keyPrefix: PREFIX, directoryTtlMs: TTL_MS, onError });
}

after(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  assert.deepEqual(errors, [], 'no background errors');
});

runBusContract('RedisBus', async (nodeId) => open(nodeId), {
  multiNode: true,
  directoryTtlMs: TTL_MS,
  crash: (bus) => (bus as RedisBus).abandon(),
});

describe('RedisBus', () => {
  it('refuses a node id that cannot be told apart from a connection id', () => {
    assert.throws(() => open('a|b'), /invalid nodeId/);
    assert.throws(() => open(''), /invalid nodeId/);
  });

  it('writes back a directory entry that vanished, while it holds the socket', async () => {
    const bus = open('restore-node');
    try {
      await bus.start(new BusRecorder());
      await bus.claimDevice(dev('+15550001001'), 'c1');
      const key = directoryKey(PREFIX, dev('+15550001001'));
      await redis.del(key);
      await sleep(TTL_MS);
      assert.equal(await redis.get(key), 'restore-node|c1');
    } finally {
      await bus.close();
    }
  });

  it('tells its holder of a takeover whose replaced signal was lost', async () => {
    const bus = open('lost-node');
    const rec = new BusRecorder();
    try {
      await bus.start(rec);
      await bus.claimDevice(dev('+15550001002'), 'c1');
      // Another node took the device over, and its signal never arrived.
      const key = directoryKey(PREFIX, dev('+15550001002'));
      await redis.set(key, 'other-node|c9', 'PX', 60_000);
      await rec.until('the replaced signal', () => rec.signals.length === 1, TTL_MS * 2);
      assert.deepEqual(rec.signals, [{ device: dev('+15550001002'), connectionId: 'c1', signal: { kind: 'replaced', connectionId: 'c1' } }]);
      await sleep(TTL_MS);
      assert.equal(await redis.get(key), 'other-node|c9', 'the new holder is left alone');
      assert.ok((await redis.pttl(key)) > 58_000, 'and its TTL is not extended');
      assert.equal(rec.signals.length, 1, 'told once');
    } finally {
      await bus.close();
    }
  });

  it('reports a message it cannot read through onError, and keeps going', async () => {
    const seen: Error[] = [];
    const bus = open('garbage-node', (err) => seen.push(err));
    const rec = new BusRecorder();
    try {
      await bus.start(rec);
      await redis.publish(`${PREFIX}node:garbage-node`, 'not json');
      await redis.publish(`${PREFIX}node:garbage-node`, JSON.stringify({ device: { userId: 'x', deviceId: 1 }, signal: { kind: 'nope' } }));
      await redis.publish(`${PREFIX}presence`, JSON.stringify({ user: 'x' }));
      await bus.claimDevice(dev('+15550001003'), 'c1');
      await bus.signalDevice(dev('+15550001003'), { kind: 'frame', frame: { type: 'typing' } });
      await bus.publishPresence({ userId: '+15550001003', online: true });
      await rec.until('the good messages', () => rec.signals.length === 1 && rec.presence.length === 1);
      assert.equal(seen.length, 3);
      assert.ok(seen.every((err) => err instanceof Error));
    } finally {
      await bus.close();
    }
  });

  it('reports a handler that throws through onError', async () => {
    const seen: Error[] = [];
    const bus = open('throwing-node', (err) => seen.push(err));
    try {
      await bus.start({
        onDeviceSignal() {
          throw new Error('handler failed');
        },
        onPresence() {
          throw new Error('presence handler failed');
        },
      });
      await bus.claimDevice(dev('+15550001004'), 'c1');
      await bus.signalDevice(dev('+15550001004'), { kind: 'frame', frame: {} });
      await bus.publishPresence({ userId: '+15550001004', online: true });
      const deadline = Date.now() + 2000;
      while (seen.length < 2 && Date.now() < deadline) await sleep(10);
      assert.deepEqual(seen.map((err) => err.message).sort(), ['handler failed', 'presence handler failed']);
    } finally {
      await bus.close();
    }
  });

  it('removes its directory entries on close, and only its own', async () => {
    const [a, b] = [open('close-a'), open('close-b')];
    try {
      await a.start(new BusRecorder());
      await b.start(new BusRecorder());
      await a.claimDevice(dev('+15550001005'), 'c1');
      await a.claimDevice(dev('+15550001006'), 'c2');
      await b.claimDevice(dev('+15550001006'), 'c3');
      await a.close();
      assert.equal(await redis.get(directoryKey(PREFIX, dev('+15550001005'))), null);
      assert.equal(await redis.get(directoryKey(PREFIX, dev('+15550001006'))), 'close-b|c3');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    assert.equal(await redis.get(directoryKey(PREFIX, dev('+15550001006'))), null);
  });
});
