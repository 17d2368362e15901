import type { Pool, PoolClient } from 'pg';
import { DEFAULT_RETRY, withTransaction } from './postgres-transaction.js';
import type { RetryOptions } from './postgres-transaction.js';

export interface GroupCommitOptions<J, R> {
  pool: Pool;
  /**
   * Does the work of all `jobs` inside one open transaction, with as few statements as it can,
   * and answers one result per job, in order. Must not keep state between calls: a batch that
   * failed is run again job by job.
   */
  runBatch(client: PoolClient, jobs: readonly J[]): Promise<R[]>;
  /** Size of a job (e.g. rows it writes), so that one transaction stays bounded. Default 1. */
  weight?(job: J): number;
  /** Most weight per transaction; a single heavier job still goes alone. Default 5,000. */
  maxBatchWeight?: number;
  retry?: RetryOptions;
}

interface Pending<J, R> {
  job: J;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: one transaction at a time; the jobs that arrive while it is in flight wait and
 * all go together in the next one (one BEGIN/COMMIT, one fsync, for all of them). A lone job is
 * hardly delayed: it starts in the same turn of the event loop when nothing is in flight.
 *
 * Each job's promise settles after the commit of the transaction that wrote it. A serialization
 * failure or deadlock re-runs the whole transaction; any other failure of a batch re-runs its
 * jobs one transaction each, so that one bad job fails alone.
 */
export class GroupCommit<J, R> {
  private readonly queue: Pending<J, R>[] = [];
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private readonly weight: (job: J) => number;
  private readonly maxBatchWeight: number;
  private readonly retry: RetryOptions;

  constructor(private readonly options: GroupCommitOptions<J, R>) {
    this.weight = options.weight ?? (() => 1);
    this.maxBatchWeight = options.maxBatchWeight ?? 5000;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  submit(job: J): Promise<R> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      if (this.inFlight === undefined) this.inFlight = this.drain();
    });
  }

  /** Refuses new jobs and resolves once those already submitted are settled. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight;
  }

  private async drain(): Promise<void> {
    // Let the rest of this turn of the event loop (other sockets' frames read in the same poll)
    // join the first transaction instead of waiting for the second.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) await this.commit(this.takeBatch());
    this.inFlight = undefined;
  }

  private takeBatch(): Pending<J, R>[] {
    let total = 0;
    let count = 0;
    while (count < this.queue.length) {
      const weight = this.weight((this.queue[count] as Pending<J, R>).job);
      if (count > 0 && total + weight > this.maxBatchWeight) break;
      total += weight;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async commit(batch: Pending<J, R>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((pending) => pending.job));
      batch.forEach((pending, i) => pending.resolve(results[i] as R));
      return;
    } catch (error) {
      if (batch.length === 1) {
        (batch[0] as Pending<J, R>).reject(error);
        return;
      }
      // The batch's error is not lost: the job that caused it meets it again below, alone.
    }
    for (const pending of batch) {
      try {
        const [result] = await this.run([pending.job]);
        pending.resolve(result as R);
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  private async run(jobs: J[]): Promise<R[]> {
    const results = await withTransaction(this.options.pool, (client) => this.options.runBatch(client, jobs), this.retry);
    if (results.length !== jobs.length) throw new Error(`batch answered ${results.length} results for ${jobs.length} jobs`);
    return results;
  }
}
