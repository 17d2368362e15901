/**
 * RateLimiter: counts hits per key in fixed windows. Shared by every node that uses the same
 * adapter instance or backend (Redis), so limits hold across a cluster.
 *
 * Guarantees: `hit` is atomic per key; a window starts at the first hit of the key and lasts
 * `windowMs`; hits beyond `limit` in a window are refused with the time left in it.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  close(): Promise<void>;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: ms until the window ends. */
  retryAfterMs: number;
}
