import type { Store } from '../ports/store.js';
import type { Logger } from './logger.js';

export interface BacklogSample {
  /** Undelivered events in all inboxes of the store (the whole cluster's, on a shared store). */
  events: number;
  /** When the oldest of them was stored; undefined when there is none. */
  oldestTs?: number;
}

/**
 * Samples `store.backlog()` on a timer rather than per scrape or alert check: it counts every
 * inbox, which on a large store is a real query, and every node of a cluster runs it.
 */
export class BacklogSampler {
  private latest: BacklogSample | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  /** The last successful sample; undefined before the first one. */
  get last(): BacklogSample | undefined {
    return this.latest;
  }

  /** Stops sampling and waits for a sample in flight, so the store can close after it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  private sample(): void {
    // A slow store must not pile up samples behind each other.
    if (this.inFlight !== undefined) return;
    this.inFlight = this.store
      .backlog()
      .then(
        (sample) => void (this.latest = sample),
        (err: unknown) => this.logger.warn({ err }, 'sampling the store backlog failed'),
      )
      .finally(() => (this.inFlight = undefined));
  }
}
