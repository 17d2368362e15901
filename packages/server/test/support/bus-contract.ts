import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deviceKey, type DeviceAddress } from '../../src/domain/device.js';
import type { MessageEvent } from '../../src/domain/events.js';
import type { Bus, DeviceSignal, PresenceChange } from '../../src/ports/bus.js';
import { BusRecorder } from './bus-recorder.js';

export interface BusContractOptions {
  /** Buses opened with different node ids share one backend, as the nodes of a cluster do. */
  multiNode: boolean;
  /** The directory TTL `open` gives its buses, where they have one: enables the expiry tests. */
  directoryTtlMs?: number;
  /** Stops a bus as if its process had died, without any cleanup: enables the dead-node test. */
  crash?: (bus: Bus) => void | Promise<void>;
}

interface Node {
  nodeId: string;
  bus: Bus;
  rec: BusRecorder;
}

/**
 * The guarantees of the Bus port (src/ports/bus.ts), run against one adapter.
 * `open` gives a new, not yet started bus for a node id.
 */
export function runBusContract(
  name: string,
  open: (nodeId: string) => Promise<Bus>,
  options: BusContractOptions,
): void {
  describe(`Bus contract: ${name}`, () => {
    const run = String(randomInt(1_000_000, 10_000_000));
    let counter = 0;
    let live: Bus[] = [];

    /** A device of a user of its own (the primary, unless said otherwise). */
    const user = (deviceId = 1): DeviceAddress => ({ userId: `+1555${run}${String(++counter).padStart(4, '0')}`, deviceId });
    /** The devices among `devices` that the bus names online, as keys. */
    const online = async (bus: Bus, devices: DeviceAddress[]): Promise<Set<string>> =>
      new Set((await bus.onlineDevices(devices)).map(deviceKey));
    const keys = (...devices: DeviceAddress[]): Set<string> => new Set(devices.map(deviceKey));
    // Connection ids sort in opening order, as the gateway's do.
    const connection = (): string => `conn-${run}-${String(++counter).padStart(8, '0')}`;

    async function node(): Promise<Node> {
      const nodeId = `node-${run}-${++counter}`;
      const bus = await open(nodeId);
      live.push(bus);
      const rec = new BusRecorder();
      await bus.start(rec);
      return { nodeId, bus, rec };
    }

    function forget(bus: Bus): void {
      live = live.filter((b) => b !== bus);
    }

    /**
     * Sends a last signal to a held device and waits for it: signals sent before it by the same
     * node, had they been delivered, would have arrived first.
     */
    async function fence(from: Bus, to: Node, device: DeviceAddress): Promise<void> {
      const marker = { kind: 'frame', frame: { type: 'fence', n: ++counter } } as const;
      await from.signalDevice(device, marker);
      await to.rec.until('the fence signal', () =>
        to.rec.signalsFor(device).some((s) => s.kind === 'frame' && s.frame.n === marker.frame.n),
      );
    }

    function frame(n: number): DeviceSignal {
      return { kind: 'frame', frame: { type: 'typing', n } };
    }

    function numbers(signals: DeviceSignal[]): unknown[] {
      return signals.map((s) => (s.kind === 'frame' ? s.frame.n : s.kind));
    }

    afterEach(async () => {
      const buses = live;
      live = [];
      await Promise.all(buses.map((bus) => bus.close()));
    });

    it('answers ping while open', async () => {
      const { bus } = await node();
      await bus.ping();
    });

    it('delivers a signal to the node that holds the device, naming the holding connection', async () => {
      const a = await node();
      const u = user();
      const c = connection();
      await a.bus.claimDevice(u, c);
      const event: MessageEvent = {
        type: 'message', seq: 7, serverId: 'srv-1', id: 'cli-1', from: '+15550000001', to: u.userId, ts: 1_700_000_000_000, body: 'hi',
      };
      const signals: DeviceSignal[] = [
        { kind: 'events', events: [event] },
        { kind: 'revoked', tokenHash: 'abc123' },
        { kind: 'frame', frame: { type: 'typing', from: '+15550000001', to: u.userId, active: true } },
      ];
      for (const signal of signals) await a.bus.signalDevice(u, signal);
      await a.rec.until('three signals', () => a.rec.signals.length === 3);
      assert.deepEqual(a.rec.signals, signals.map((signal) => ({ device: u, connectionId: c, signal })));
    });

    it('calls handlers outside the caller, never inside signalDevice', async () => {
      const a = await node();
      const u = user();
      await a.bus.claimDevice(u, connection());
      const sending = a.bus.signalDevice(u, frame(1));
      assert.equal(a.rec.signals.length, 0);
      await sending;
      await a.rec.until('the signal', () => a.rec.signals.length === 1);
    });

    it('drops a signal to a device that nobody holds', async () => {
      const a = await node();
      const [never, released, held] = [user(), user(), user()];
      const c = connection();
      await a.bus.claimDevice(released, c);
      assert.equal(await a.bus.releaseDevice(released, c), true);
      await a.bus.claimDevice(held, connection());
      await a.bus.signalDevice(never, frame(1));
      await a.bus.signalDevice(released, frame(2));
      await fence(a.bus, a, held);
      assert.deepEqual(a.rec.signals.map((s) => s.device), [held]);
    });

    it('keeps the order of many signals to one device', async () => {
      const a = await node();
      const u = user();
      await a.bus.claimDevice(u, connection());
      const count = 300;
      await Promise.all(Array.from({ length: count }, (_, n) => a.bus.signalDevice(u, frame(n))));
      await a.rec.until(`${count} signals`, () => a.rec.signals.length === count);
      assert.deepEqual(numbers(a.rec.signalsFor(u)), Array.from({ length: count }, (_, n) => n));
    });

    it('tells the node a replaced connection of its own, once, and not on a repeated claim', async () => {
      const a = await node();
      const u = user();
      const [c1, c2] = [connection(), connection()];
      await a.bus.claimDevice(u, c1);
      await a.bus.claimDevice(u, c2);
      await a.rec.until('the replaced signal', () => a.rec.signals.length === 1);
      await a.bus.claimDevice(u, c2);
      await fence(a.bus, a, u);
      assert.deepEqual(a.rec.signalsFor(u).slice(0, -1), [{ kind: 'replaced', connectionId: c1 }]);
      assert.deepEqual(a.rec.connectionsFor(u), [c1, c2], 'the replaced signal goes to the old connection, later ones to the new');
    });

    it('refuses a claim by a connection older than the holder, and tells nobody', async () => {
      const a = await node();
      const u = user();
      const [older, newer] = [connection(), connection()];
      assert.equal(await a.bus.claimDevice(u, newer), true);
      assert.equal(await a.bus.claimDevice(u, older), false);
      await fence(a.bus, a, u);
      assert.deepEqual(a.rec.signalsFor(u).filter((s) => s.kind === 'replaced'), []);
      assert.equal(await a.bus.releaseDevice(u, older), false, 'the older one never held it');
      assert.equal(await a.bus.releaseDevice(u, newer), true, 'the newer one still does');
    });

    it('keeps the new holder when the replaced connection releases late', async () => {
      const a = await node();
      const u = user();
      const [c1, c2] = [connection(), connection()];
      await a.bus.claimDevice(u, c1);
      await a.bus.claimDevice(u, c2);
      assert.equal(await a.bus.releaseDevice(u, c1), false);
      assert.deepEqual(await online(a.bus, [u]), keys(u));
      await fence(a.bus, a, u);
      assert.equal(await a.bus.releaseDevice(u, c2), true);
      assert.deepEqual(await online(a.bus, [u]), new Set());
    });

    it('says whether releaseDevice removed the holder', async () => {
      const a = await node();
      const u = user();
      const [c1, c2] = [connection(), connection()];
      assert.equal(await a.bus.releaseDevice(u, c1), false, 'never claimed');
      await a.bus.claimDevice(u, c1);
      assert.equal(await a.bus.releaseDevice(u, c2), false, 'another connection');
      assert.equal(await a.bus.releaseDevice(u, c1), true, 'the holder');
      assert.equal(await a.bus.releaseDevice(u, c1), false, 'already released');
    });

    it('holds the devices of one user apart: claims, signals and releases', async () => {
      const a = await node();
      const primary = user();
      const linked = { userId: primary.userId, deviceId: 2 };
      const [c1, c2] = [connection(), connection()];
      assert.equal(await a.bus.claimDevice(primary, c1), true);
      assert.equal(await a.bus.claimDevice(linked, c2), true);
      await a.bus.signalDevice(linked, frame(2));
      await a.bus.signalDevice(primary, frame(1));
      await fence(a.bus, a, primary);
      await fence(a.bus, a, linked);
      assert.deepEqual(numbers(a.rec.signalsFor(primary)).slice(0, -1), [1], 'no replaced signal: another device is no second connection');
      assert.deepEqual(numbers(a.rec.signalsFor(linked)).slice(0, -1), [2]);
      assert.deepEqual(await online(a.bus, [primary, linked, user()]), keys(primary, linked));
      assert.equal(await a.bus.releaseDevice(linked, c2), true);
      assert.deepEqual(await online(a.bus, [primary, linked]), keys(primary));
    });

    it('lists which of the devices asked about are online', async () => {
      const a = await node();
      const [x, y, z] = [user(), user(), user()];
      assert.deepEqual(await online(a.bus, []), new Set());
      await a.bus.claimDevice(x, connection());
      await a.bus.claimDevice(y, connection());
      assert.deepEqual(await online(a.bus, [x, y, z, x]), keys(x, y));
    });

    it('delivers presence to the publishing node, in order', async () => {
      const a = await node();
      const u = user().userId;
      const changes: PresenceChange[] = [
        { userId: u, online: true },
        { userId: u, online: false, lastSeen: 1_700_000_000_000 },
        { userId: u, online: true },
      ];
      for (const change of changes) await a.bus.publishPresence(change);
      await a.rec.until('three presence changes', () => a.rec.presence.length === 3);
      assert.deepEqual(a.rec.presence, changes);
    });

    if (!options.multiNode) return;

    it('delivers signals from another node to the holder, in order', async () => {
      const [a, b] = [await node(), await node()];
      const u = user();
      const c = connection();
      await a.bus.claimDevice(u, c);
      const count = 200;
      await Promise.all(Array.from({ length: count }, (_, n) => b.bus.signalDevice(u, frame(n))));
      await a.rec.until(`${count} signals`, () => a.rec.signals.length === count);
      assert.deepEqual(numbers(a.rec.signalsFor(u)), Array.from({ length: count }, (_, n) => n));
      assert.deepEqual(new Set(a.rec.connectionsFor(u)), new Set([c]));
      assert.equal(b.rec.signals.length, 0);
    });

    it('hands signals from another node to the connection that took the device over on the holder\'s node', async () => {
      const [a, b] = [await node(), await node()];
      const u = user();
      const [c1, c2] = [connection(), connection()];
      await a.bus.claimDevice(u, c1);
      await a.bus.claimDevice(u, c2);
      await fence(b.bus, a, u);
      await b.bus.signalDevice(u, frame(1));
      await fence(b.bus, a, u);
      const fromB = a.rec.signals.filter((s) => s.signal.kind === 'frame');
      assert.deepEqual(fromB.map((s) => s.connectionId), [c2, c2, c2]);
      assert.deepEqual(a.rec.signalsFor(u)[0], { kind: 'replaced', connectionId: c1 });
      assert.equal(a.rec.connectionsFor(u)[0], c1);
    });

    it('keeps the newest connection when an older one claims later from another node', async () => {
      const [a, b] = [await node(), await node()];
      const u = user();
      const [older, newer] = [connection(), connection()];
      assert.equal(await b.bus.claimDevice(u, newer), true);
      assert.equal(await a.bus.claimDevice(u, older), false);
      await fence(a.bus, b, u);
      assert.deepEqual(b.rec.signalsFor(u).filter((s) => s.kind === 'replaced'), [], 'the newer connection is left alone');
      assert.equal(await a.bus.releaseDevice(u, older), false);
      assert.deepEqual(await online(a.bus, [u]), keys(u));
    });

    it('tells the old node when another node claims the device', async () => {
      const [a, b, c] = [await node(), await node(), await node()];
      const u = user();
      const [c1, c2] = [connection(), connection()];
      await a.bus.claimDevice(u, c1);
      await b.bus.claimDevice(u, c2);
      await a.rec.until('the replaced signal', () => a.rec.signals.length === 1);
      assert.deepEqual(a.rec.signals, [{ device: u, connectionId: c1, signal: { kind: 'replaced', connectionId: c1 } }]);

      // From now on the device is B's, whoever signals it.
      await c.bus.signalDevice(u, frame(-1));
      await a.bus.signalDevice(u, frame(-2));
      await fence(c.bus, b, u);
      await fence(a.bus, b, u);
      const atB = numbers(b.rec.signalsFor(u));
      assert.ok(atB.includes(-1) && atB.includes(-2), `B got ${JSON.stringify(atB)}`);
      assert.equal(atB.includes('replaced'), false);
      assert.deepEqual(new Set(b.rec.connectionsFor(u)), new Set([c2]));
      assert.equal(a.rec.signals.length, 1);

      assert.equal(await a.bus.releaseDevice(u, c1), false);
      assert.deepEqual(await online(c.bus, [u]), keys(u));
      await fence(c.bus, b, u);
    });

    it('delivers presence to every node, the publisher included, in order', async () => {
      const nodes = [await node(), await node(), await node()];
      const u = user().userId;
      const changes: PresenceChange[] = Array.from({ length: 10 }, (_, n) =>
        n % 2 === 0 ? { userId: u, online: true } : { userId: u, online: false, lastSeen: 1_700_000_000_000 + n },
      );
      const publisher = nodes[1]!;
      await Promise.all(changes.map((change) => publisher.bus.publishPresence(change)));
      for (const n of nodes) {
        await n.rec.until(`presence on ${n.nodeId}`, () => n.rec.presence.length === changes.length);
        assert.deepEqual(n.rec.presence, changes);
      }
    });

    it('answers onlineUsers for devices held by any node', async () => {
      const [a, b, c] = [await node(), await node(), await node()];
      const [x, y, z] = [user(), user(), user()];
      await a.bus.claimDevice(x, connection());
      await b.bus.claimDevice(y, connection());
      assert.deepEqual(await online(c.bus, [x, y, z]), keys(x, y));
    });

    it('forgets the devices of a node that closes', async () => {
      const [a, b] = [await node(), await node()];
      const [x, y] = [user(), user()];
      await a.bus.claimDevice(x, connection());
      await a.bus.claimDevice(y, connection());
      forget(a.bus);
      await a.bus.close();
      assert.deepEqual(await online(b.bus, [x, y]), new Set());
    });

    const ttl = options.directoryTtlMs;
    if (ttl === undefined) return;

    it('keeps a live node the holder past the directory TTL', async () => {
      const [a, b] = [await node(), await node()];
      const u = user();
      await a.bus.claimDevice(u, connection());
      // Watched all along: an entry that lapses and comes back would still drop signals meanwhile.
      const until = Date.now() + ttl * 2.5;
      while (Date.now() < until) {
        assert.deepEqual(await online(b.bus, [u]), keys(u));
        await sleep(ttl / 20);
      }
      await fence(b.bus, a, u);
    });

    const crash = options.crash;
    if (crash === undefined) return;

    it('stops naming a dead node the holder within the directory TTL', async () => {
      const [a, b] = [await node(), await node()];
      const u = user();
      await a.bus.claimDevice(u, connection());
      forget(a.bus);
      await crash(a.bus);
      const died = Date.now();
      while ((await online(b.bus, [u])).size > 0) {
        assert.ok(Date.now() - died < ttl + 1000, `still named holder ${Date.now() - died} ms after dying`);
        await sleep(ttl / 20);
      }
      // The device may come back on a live node at once.
      const c2 = connection();
      await b.bus.claimDevice(u, c2);
      await fence(b.bus, b, u);
      assert.equal(b.rec.signalsFor(u).some((s) => s.kind === 'replaced'), false);
    });
  });
}
