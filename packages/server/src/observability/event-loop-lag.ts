/** Sampling period: fine enough for an alert measured in hundreds of ms, cheap to run. */
const RESOLUTION_MS = 10;

export interface LagWindow {
  /** 99th percentile of the loop's delay (beyond the sampling period) over the last window, in ms. */
  p99Ms: number;
  /** The longest single delay in the last window, in ms. */
  maxMs: number;
}

/**
 * How late the event loop runs, in fixed windows: a blocked loop delays every socket of the
 * node at once, so it is watched like a queue.
 *
 * A timer notes how late each of its ticks comes. (perf_hooks.monitorEventLoopDelay measures
 * the same, but resetting it per window also forgets its last tick, so a block that spans a
 * reset is never recorded; one timer that both samples and closes windows cannot lose one.)
 */
export class EventLoopLag {
  private readonly timer: NodeJS.Timeout;
  private window: LagWindow = { p99Ms: 0, maxMs: 0 };
  private samples: number[] = [];
  private lastTick = performance.now();
  private windowStart = this.lastTick;

  constructor(private readonly windowMs: number) {
    this.timer = setInterval(() => this.tick(), RESOLUTION_MS);
    this.timer.unref();
  }

  /** The last complete window. */
  get last(): LagWindow {
    return this.window;
  }

  /**
   * Forgets what was measured so far: the node's start (module loading, schema compilation,
   * migrations) blocks the loop once and says nothing about how it serves.
   */
  reset(): void {
    this.window = { p99Ms: 0, maxMs: 0 };
    this.samples = [];
    this.lastTick = performance.now();
    this.windowStart = this.lastTick;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    this.samples.push(Math.max(0, now - this.lastTick - RESOLUTION_MS));
    this.lastTick = now;
    if (now - this.windowStart < this.windowMs) return;
    const sorted = this.samples.sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
    this.window = { p99Ms: p99, maxMs: sorted[sorted.length - 1] ?? 0 };
    this.samples = [];
    this.windowStart = now;
  }
}
