import type Database from 'better-sqlite3';

export interface GroupCommitOptions {
  /** Most jobs in one transaction; the rest wait for the next turn of the event loop. */
  maxBatch?: number;
  /**
   * Told when a whole batch failed (BEGIN or COMMIT, or an error that made SQLite abort the
   * transaction) and its jobs were retried one by one. The jobs' own outcomes go to their callers.
   */
  onBatchFailure?: (error: unknown) => void;
  /** Runs inside the transaction after its jobs, just before COMMIT (or RELEASE of a job's savepoint). */
  beforeCommit?: () => void;
  /** Runs after a transaction or a job's savepoint was rolled back. */
  afterRollback?: () => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Job {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for better-sqlite3, whose calls are synchronous: the writes submitted during one
 * turn of the event loop run together in one IMMEDIATE transaction (one fsync) in a
 * `setImmediate`, in the order they were submitted. Each caller's promise settles after that
 * commit with its own result.
 *
 * The jobs run back to back with no savepoint each (they are nearly always valid: the services
 * check before they write). Only when one throws is the whole transaction rolled back and the
 * batch run again with each job in a SAVEPOINT of its own, so the failing job is undone alone
 * and the others still commit; jobs must therefore be safe to run twice. Should the batch as a
 * whole fail, every job is run again in a transaction of its own. Reads need no queue: writes
 * happen only inside a flush, so a read sees committed data.
 */
export class GroupCommit {
  readonly #db: Database.Database;
  readonly #maxBatch: number;
  readonly #onBatchFailure: (error: unknown) => void;
  readonly #beforeCommit: () => void;
  readonly #afterRollback: () => void;
  readonly #straight: Database.Transaction<(jobs: Job[]) => Outcome[]>;
  readonly #job: Database.Transaction<(work: () => unknown) => unknown>;
  readonly #batch: Database.Transaction<(jobs: Job[]) => Outcome[]>;
  #queue: Job[] = [];
  #scheduled = false;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(db: Database.Database, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#onBatchFailure = options.onBatchFailure ?? (() => undefined);
    this.#beforeCommit = options.beforeCommit ?? (() => undefined);
    this.#afterRollback = options.afterRollback ?? (() => undefined);
    this.#straight = db.transaction((jobs: Job[]) => {
      const outcomes = jobs.map((job): Outcome => ({ ok: true, value: job.work() }));
      this.#beforeCommit();
      return outcomes;
    });
    // Called inside #batch, better-sqlite3 turns this into SAVEPOINT / RELEASE / ROLLBACK TO.
    this.#job = db.transaction((work: () => unknown) => {
      const value = work();
      this.#beforeCommit();
      return value;
    });
    this.#batch = db.transaction((jobs: Job[]) => jobs.map((job) => this.#runInSavepoint(job)));
  }

  /** Runs `work` (synchronous, SQLite calls only) in the next batch; resolves once committed. */
  run<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the SQLite store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Refuses new jobs and resolves once every queued one has been committed or refused. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const jobs = this.#queue.splice(0, this.#maxBatch);
    for (const [i, outcome] of this.#commit(jobs).entries()) {
      const job = jobs[i] as Job;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
    if (this.#queue.length > 0) {
      this.#schedule();
      return;
    }
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  };

  #commit(jobs: Job[]): Outcome[] {
    try {
      return this.#straight.immediate(jobs);
    } catch {
      // A job threw (or the commit failed) and nothing of the batch was written: again, with
      // savepoints, so that the failure stays with its job.
      this.#afterRollback();
    }
    try {
      return this.#batch.immediate(jobs);
    } catch (error) {
      this.#afterRollback();
      // Nothing of the batch was written; alone, each job succeeds or fails on its own merits.
      this.#onBatchFailure(error);
      return jobs.map((job) => {
        try {
          return { ok: true, value: this.#job.immediate(job.work) };
        } catch (jobError) {
          this.#afterRollback();
          return { ok: false, error: jobError };
        }
      });
    }
  }

  #runInSavepoint(job: Job): Outcome {
    try {
      return { ok: true, value: this.#job(job.work) };
    } catch (error) {
      this.#afterRollback();
      // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) make SQLite roll back the whole transaction;
      // the next jobs would then run outside of it, so give up on the batch.
      if (!this.#db.inTransaction) throw error;
      return { ok: false, error };
    }
  }
}
