/**
 * The SQLite worker thread: owns the one connection and runs SqliteStore on it, so that statements,
 * commits, fsyncs and checkpoints never block the event loop that serves the sockets. Calls come
 * in batches (see SqliteWorkerStore) and are answered in batches; the writes among them share the
 * store's group commits as before.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { sendableError, type WorkerCall, type WorkerReply } from './sqlite-worker-protocol.js';

if (parentPort === null) throw new Error('sqlite-worker.js runs only as a worker thread');
const port = parentPort;
const store = new SqliteStore(workerData as SqliteStoreOptions);
const methods = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

let replies: WorkerReply[] = [];
let flushScheduled = false;

function reply(answer: WorkerReply): void {
  replies.push(answer);
  if (flushScheduled) return;
  flushScheduled = true;
  // Answers that settle in the same turn (a whole group commit's) go back in one message.
  setImmediate(() => {
    flushScheduled = false;
    const batch = replies;
    replies = [];
    port.postMessage(batch);
  });
}

async function run(call: WorkerCall): Promise<void> {
  try {
    const method = methods[call.method];
    if (typeof method !== 'function') throw new Error(`SqliteStore has no method ${call.method}`);
    reply({ id: call.id, ok: true, value: await method.apply(store, call.args) });
  } catch (error) {
    reply({ id: call.id, ok: false, error: sendableError(error) });
  }
}

port.on('message', (calls: WorkerCall[]) => {
  for (const call of calls) void run(call);
});
