import { DatabaseError } from 'pg';
import type { Pool, PoolClient } from 'pg';

/** SQLSTATEs after which the whole transaction may simply be tried again. */
const RETRYABLE = new Set(['40001', '40P01']);

export interface RetryOptions {
  /** Attempts in all, the first one included. */
  attempts: number;
  /** Upper bound of the random pause before the n-th retry, times n, in ms. */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 8, backoffMs: 20 };

/** True for serialization failures and deadlocks: nothing was written, trying again is safe. */
export function isRetryable(error: unknown): boolean {
  return error instanceof DatabaseError && error.code !== undefined && RETRYABLE.has(error.code);
}

/**
 * Runs `work` between BEGIN and COMMIT on a client of the pool, again from the start after a
 * serialization failure or a deadlock. Any other error rolls back and comes out unchanged.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  retry: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transactionOnce(pool, work);
    } catch (error) {
      if (!isRetryable(error) || attempt >= retry.attempts) throw error;
      // Jitter, so that the transactions that collided do not collide again in lockstep.
      await pause(Math.random() * retry.backoffMs * attempt);
    }
  }
}

async function transactionOnce<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        // A client that cannot even roll back is unusable: it leaves the pool instead of returning to it.
        broken = rollbackError;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
