import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteWorkerStore } from '../src/adapters/store/sqlite/sqlite-worker-store.js';
import { CourierError } from '../src/domain/errors.js';
import type { Group } from '../src/domain/group.js';
import { runStoreContract } from './support/store-contract.js';
import { runStoreDevicesContract } from './support/store-devices-contract.js';

let root = '';
let opened = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'courier-sqlite-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openAt(file: string): Promise<SqliteWorkerStore> {
  const store = new SqliteWorkerStore({ file });
  await store.init();
  return store;
}

async function openFresh() {
  const dir = join(root, `store-${++opened}`);
  await mkdir(dir);
  const file = join(dir, 'courier.db');
  return {
    store: await openAt(file),
    reopen: () => openAt(file),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
runStoreContract('SqliteStore on its worker thread', openFresh);
runStoreDevicesContract('SqliteStore on its worker thread', openFresh);

describe('SqliteStore on its worker thread', () => {
  const A = '+15550000011';
  const B = '+15550000012';
  const group: Group = { groupId: 'g-worker', name: 'Worker', members: [A], admins: [A], createdAt: 1 };

  it('gives a CourierError from the worker back with its code and status', async () => {
    const dir = join(root, 'worker-errors');
    await mkdir(dir);
    const store = await openAt(join(dir, 'courier.db'));
    try {
      await store.registerPrimary(A, 'token-a', 1);
      await store.createGroup(group, []);
      await assert.rejects(store.createGroup(group, []), (error: unknown) => {
        assert.ok(error instanceof CourierError);
        assert.equal(error.code, 'group_exists');
        assert.equal(error.status, 409);
        return true;
      });
    } finally {
      await store.close();
    }
    await assert.rejects(store.lastSeq({ userId: A, deviceId: 1 }), /closed/, 'a closed store refuses calls with a sentence');
  });

  it('changeGroup reads again when another write changed the group between its read and its write', async () => {
    const dir = join(root, 'worker-group-race');
    await mkdir(dir);
    const store = await openAt(join(dir, 'courier.db'));
    try {
      await store.registerPrimary(A, 'token-a', 1);
      await store.registerPrimary(B, 'token-b', 1);
      await store.createGroup(group, []);
      const seenNames: string[] = [];
      const result = await store.changeGroup(group.groupId, (current) => {
        seenNames.push(current.name);
        // Another writer renames the group after our read; its write reaches the worker first.
        if (seenNames.length === 1) void store.replaceGroup(current, { ...current, name: 'Renamed' }, []);
        return { group: { ...current, members: [...current.members, B] }, events: [] };
      });
      assert.deepEqual(seenNames, ['Worker', 'Renamed'], 'the change ran again on the renamed group');
      assert.deepEqual(result.group, { ...group, name: 'Renamed', members: [A, B] });
      assert.deepEqual(await store.getGroup(group.groupId), result.group);
    } finally {
      await store.close();
    }
  });
});

describe('SqliteStore durability', () => {
  const child = fileURLToPath(new URL('./support/sqlite-kill-child.js', import.meta.url));
  const from = '+15550000001';
  const to = '+15550000002';

  for (const synchronous of ['full', 'normal'] as const) {
    it(`loses no resolved send when the process is killed with SIGKILL (synchronous=${synchronous})`, async () => {
      const dir = join(root, `kill-${synchronous}`);
      await mkdir(dir);
      const file = join(dir, 'courier.db');
      const setup = await openAt(file);
      await setup.registerPrimary(from, 'token-from', Date.now());
      await setup.registerPrimary(to, 'token-to', Date.now());
      await setup.close();

      const printed = await runUntilKilled(child, [file, synchronous, from, to], 2000);
      assert.ok(printed.length >= 2000, `the child printed ${printed.length} sends before the kill`);

      const store = await openAt(file);
      try {
        const inbox = await store.readInbox({ userId: to, deviceId: 1 }, 0, 1_000_000);
        const stored = new Set(inbox.map((event) => (event.type === 'message' ? event.serverId : '')));
        const lost = printed.filter((serverId) => !stored.has(serverId));
        assert.deepEqual(lost, [], `${lost.length} of ${printed.length} acknowledged sends were lost`);
        assert.deepEqual(
          inbox.map((event) => event.seq),
          inbox.map((_, i) => i + 1),
          'seqs stay contiguous',
        );
        assert.equal(await store.lastSeq({ userId: to, deviceId: 1 }), inbox.length);
      } finally {
        await store.close();
      }
    });
  }
});

/** Runs the child, SIGKILLs it once it has printed `atLeast` lines, and returns every line it printed. */
function runUntilKilled(script: string, args: string[], atLeast: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let partial = '';
    let killed = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the child printed only ${lines.length} lines in 60 s`));
    }, 60_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (!killed && lines.length >= atLeast) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`the child ended on its own (code ${code}, signal ${signal})`));
        return;
      }
      // A line cut by the kill was never fully printed; its send may or may not have resolved.
      resolve(lines);
    });
  });
}
