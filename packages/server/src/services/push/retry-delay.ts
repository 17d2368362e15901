/** The first retry waits about this long; each further one twice as long. */
const BASE_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** A push service that asks for a longer pause than this gets no retry of this wake. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * How long to wait before try `failedTries + 1`: exponential backoff with jitter (so that many
 * devices refused at once do not come back at once), never shorter than the service's
 * `Retry-After`. Undefined: give up.
 */
export function retryDelay(failedTries: number, retryAfterMs: number | undefined, random = Math.random): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) return undefined;
  const backoff = Math.min(BASE_MS * 2 ** (failedTries - 1), MAX_BACKOFF_MS) * (0.5 + random() / 2);
  return Math.max(backoff, retryAfterMs ?? 0);
}
