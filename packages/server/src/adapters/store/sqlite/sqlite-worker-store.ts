import { Worker } from 'node:worker_threads';
import type { Appended, InboxEntry, MessageEvent } from '../../../domain/events.js';
import { CourierError } from '../../../domain/errors.js';
import type { Group } from '../../../domain/group.js';
import type { SendResult, Store } from '../../../ports/store.js';
import { withEvents, type PlacedSend } from './sqlite-inbox.js';
import { EVENT_LOOP_READS, SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { receivedError, type WorkerCall, type WorkerReply } from './sqlite-worker-protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How often changeGroup retries when another write changed the group between its read and its write. */
const MAX_GROUP_CHANGE_TRIES = 100;

/**
 * The embedded store as the node uses it: SqliteStore running on a worker thread (see
 * sqlite-worker.ts), so the event loop keeps reading, parsing and pushing while a batch commits.
 *
 * Every method of SqliteStore is forwarded by name (arguments and answers are structured clones),
 * so a method added to SqliteStore needs nothing here, as long as its arguments are plain data.
 * Calls made in one turn of the event loop cross to the worker in one message; answers come back
 * the same way. Only `init`, `close` and `changeGroup` (whose argument is a function) are
 * answered here, `sendMessage` crosses as `sendMessagePlaced` (its events are rebuilt here from
 * the message, see PlacedSend), and the short reads of EVENT_LOOP_READS run here on a read-only
 * connection.
 */
export class SqliteWorkerStore {
  readonly #options: SqliteStoreOptions;
  #worker: Worker | undefined;
  /** A read-only connection of this thread's, for EVENT_LOOP_READS. */
  #reader: SqliteStore | undefined;
  #failure: Error | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #outbox: WorkerCall[] = [];
  #flushScheduled = false;
  #closing: Promise<void> | undefined;
  /** The last change queued per group: this process's changes of one group run one at a time. */
  readonly #groupChanges = new Map<string, Promise<unknown>>();

  constructor(options: SqliteStoreOptions) {
    this.#options = options;
  }

  static {
    // The generic forwarding: every public method of SqliteStore this class does not answer itself,
    // to the worker, or for the few reads of EVENT_LOOP_READS to this thread's read-only connection.
    for (const name of Object.getOwnPropertyNames(SqliteStore.prototype)) {
      if (name === 'constructor' || Object.hasOwn(SqliteWorkerStore.prototype, name)) continue;
      const onEventLoop = EVENT_LOOP_READS.has(name);
      Object.defineProperty(SqliteWorkerStore.prototype, name, {
        value(this: SqliteWorkerStore, ...args: unknown[]) {
          if (onEventLoop && this.#reader !== undefined && this.#closing === undefined) {
            return (this.#reader as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args);
          }
          return this.#call(name, args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  async init(): Promise<void> {
    if (this.#closing !== undefined) throw new Error('the SQLite store is closed');
    if (this.#worker === undefined) {
      const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData: this.#options });
      worker.unref();
      worker.on('message', (replies: WorkerReply[]) => this.#settle(replies));
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => this.#fail(new Error(`the SQLite worker thread exited (code ${code})`)));
      this.#worker = worker;
    }
    await this.#call('init', []);
    if (this.#reader === undefined) {
      // Opened once the worker has migrated the schema, so its statements find every table.
      const reader = new SqliteStore({ ...this.#options, readOnly: true });
      await reader.init();
      this.#reader = reader;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#reader?.close();
      const worker = this.#worker;
      if (worker === undefined) return;
      // The worker's close waits for every queued write to commit.
      await this.#call('close', [], true);
      this.#failure ??= new Error('the SQLite store is closed');
      await worker.terminate();
    })();
    return this.#closing;
  }

  /**
   * Reads the group, lets `change` decide, and writes only if the group is still what was read
   * (checked in the write's own transaction), else reads again. This process's changes of one
   * group queue behind each other, so a retry happens only when another kind of write changed it.
   */
  changeGroup(
    groupId: string,
    change: (group: Group) => { group: Group; events: InboxEntry[] },
  ): Promise<{ group: Group; appended: Appended[] }> {
    const previous = this.#groupChanges.get(groupId) ?? Promise.resolve();
    const result = previous.then(() => this.#changeGroupOnce(groupId, change));
    const tail = result.catch(() => undefined);
    this.#groupChanges.set(groupId, tail);
    void tail.then(() => {
      if (this.#groupChanges.get(groupId) === tail) this.#groupChanges.delete(groupId);
    });
    return result;
  }

  async #changeGroupOnce(
    groupId: string,
    change: (group: Group) => { group: Group; events: InboxEntry[] },
  ): Promise<{ group: Group; appended: Appended[] }> {
    for (let tries = 0; tries < MAX_GROUP_CHANGE_TRIES; tries++) {
      const seen = (await this.#call('getGroup', [groupId])) as Group | undefined;
      if (seen === undefined) throw new CourierError('not_found', `no group ${groupId}`, 404);
      const next = change(seen);
      const done = await this.#call('replaceGroup', [seen, next.group, next.events]);
      if (done !== undefined) return done as { group: Group; appended: Appended[] };
    }
    throw new Error(`group ${groupId} kept changing; gave up after ${MAX_GROUP_CHANGE_TRIES} tries`);
  }

  /** Sends cross back as placements only; the events are rebuilt here from the message this thread holds. */
  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): Promise<SendResult> {
    return this.#call('sendMessagePlaced', [message, recipients, fromDevice]).then((placed) =>
      withEvents({ type: 'message', ...message }, placed as PlacedSend),
    );
  }

  #call(method: string, args: unknown[], closing = false): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#worker === undefined) return Promise.reject(new Error('SqliteWorkerStore used before init()'));
    if (this.#closing !== undefined && !closing) return Promise.reject(new Error('the SQLite store is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // While an answer is awaited the worker keeps the process alive; an idle store does not.
      if (this.#pending.size === 0) this.#worker?.ref();
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push({ id, method, args });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    });
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const calls = this.#outbox;
    this.#outbox = [];
    try {
      this.#worker?.postMessage(calls);
    } catch {
      // An argument that cannot be cloned (a function, say) fails the whole message: send the
      // calls one by one, so only the guilty one fails.
      for (const call of calls) {
        try {
          this.#worker?.postMessage([call]);
        } catch (error) {
          this.#take(call.id)?.reject(error);
        }
      }
    }
  };

  #settle(replies: WorkerReply[]): void {
    for (const reply of replies) {
      const pending = this.#take(reply.id);
      if (pending === undefined) continue;
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(receivedError(reply.error));
    }
  }

  #take(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
    return pending;
  }

  /** The worker died: nothing it had not answered can be trusted to have committed. */
  #fail(error: Error): void {
    this.#failure ??= error;
    for (const id of [...this.#pending.keys()]) this.#take(id)?.reject(error);
  }
}

// The methods forwarded in the static block above, as the type checker sees them (SqliteStore's
// methods all answer promises, as the port's do).
export interface SqliteWorkerStore extends Store, Omit<SqliteStore, keyof Store> {}
