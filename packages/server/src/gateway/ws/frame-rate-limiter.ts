/**
 * A token bucket per connection: `perSecond` frames on average, bursts of twice that.
 * Refusals are counted in a sliding 10 s window so a client that keeps flooding can be closed.
 */
export class FrameRateLimiter {
  private tokens: number;
  private last = performance.now();
  private refusals: number[] = [];

  constructor(
    private readonly perSecond: number,
    private readonly closeAfterRefusals = Math.max(50, perSecond / 2),
  ) {
    this.tokens = perSecond * 2;
  }

  /** 'ok', 'refuse' (answer rate_limited) or 'close' (the client keeps on: close with 1008). */
  take(): 'ok' | 'refuse' | 'close' {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond * 2, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    this.refusals = this.refusals.filter((t) => now - t < 10_000);
    this.refusals.push(now);
    return this.refusals.length > this.closeAfterRefusals ? 'close' : 'refuse';
  }
}
