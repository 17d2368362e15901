/**
 * Child process of the kill -9 test in store-sqlite.test.ts: writes messages through the SQLite store (on its worker thread, as the node runs it)
 * as fast as it can and prints the serverId of each send whose promise resolved, until killed.
 * Usage: node sqlite-kill-child.js <database file> <full|normal> <from> <to>
 */
import { randomUUID } from 'node:crypto';
import { SqliteWorkerStore } from '../../src/adapters/store/sqlite/sqlite-worker-store.js';

const [file, synchronous, sender, recipient] = process.argv.slice(2);
if (!file || (synchronous !== 'full' && synchronous !== 'normal') || !sender || !recipient) {
  throw new Error('usage: sqlite-kill-child.js <file> <full|normal> <from> <to>');
}
const from: string = sender;
const to: string = recipient;

const IN_FLIGHT = 64;
// A bound, so that a child whose parent died does not write forever.
const MAX_SENDS = 200_000;

const store = new SqliteWorkerStore({ file, synchronous });
await store.init();

let started = 0;
function sendOne(): Promise<void> {
  if (started >= MAX_SENDS) return Promise.resolve();
  started += 1;
  const serverId = randomUUID();
  return store
    .sendMessage({ serverId, id: randomUUID(), from, to, ts: Date.now(), body: `n${started}` }, [to], 1)
    .then(() => {
      process.stdout.write(`${serverId}\n`);
      return sendOne();
    });
}

await Promise.all(Array.from({ length: IN_FLIGHT }, () => sendOne()));
await store.close();
