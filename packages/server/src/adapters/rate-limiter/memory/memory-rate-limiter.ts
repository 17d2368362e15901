import type { RateDecision, RateLimiter } from '../../../ports/rate-limiter.js';

export interface MemoryRateLimiterOptions {
  /** How often, at most, expired windows are swept out of memory (default 1 s). */
  sweepIntervalMs?: number;
}

interface Window {
  count: number;
  endsAt: number;
}

/**
 * Fixed windows in a Map, for one node. `hit` is synchronous inside, hence atomic per key.
 *
 * Keys come from clients (phones, addresses), so the Map must not grow with every key ever seen:
 * expired windows are swept on a hit at most once per sweep interval. Windows of different lengths
 * share the Map, so no order of it follows expiry; a full sweep at a bounded rate is the simple
 * way to keep memory proportional to the keys active in the last window plus one interval.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly sweepIntervalMs: number;
  private nextSweepAt = 0;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 1000;
  }

  /** Windows held in memory (live ones, plus expired ones not yet swept). */
  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const now = Date.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      window = { count: 0, endsAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= limit) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: window.endsAt - now };
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.sweepIntervalMs;
    for (const [key, window] of this.windows) {
      if (window.endsAt <= now) this.windows.delete(key);
    }
  }
}
