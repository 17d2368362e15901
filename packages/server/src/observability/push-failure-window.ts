/** How far back the push_failures alert looks. */
const WINDOW_MS = 5 * 60_000;
const BUCKET_MS = 10_000;
/** Below this many requests in the window, a ratio says little: no reading. */
const MIN_REQUESTS = 20;

interface Bucket {
  start: number;
  requests: number;
  failed: number;
}

/**
 * Push requests of the last five minutes, in ten-second buckets: what the push_failures alert
 * reads, so that it fires when failures stay high, not on one bad second.
 */
export class PushFailureWindow {
  private readonly buckets: Bucket[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  record(failed: boolean): void {
    const start = Math.floor(this.now() / BUCKET_MS) * BUCKET_MS;
    let bucket = this.buckets[this.buckets.length - 1];
    if (bucket === undefined || bucket.start !== start) {
      bucket = { start, requests: 0, failed: 0 };
      this.buckets.push(bucket);
      this.dropOld();
    }
    bucket.requests++;
    if (failed) bucket.failed++;
  }

  /** The share of failed requests in the window, in percent; undefined while there are too few. */
  failurePercent(): number | undefined {
    this.dropOld();
    let requests = 0;
    let failed = 0;
    for (const bucket of this.buckets) {
      requests += bucket.requests;
      failed += bucket.failed;
    }
    return requests < MIN_REQUESTS ? undefined : (failed / requests) * 100;
  }

  private dropOld(): void {
    const oldest = this.now() - WINDOW_MS;
    while (this.buckets.length > 0 && this.buckets[0]!.start + BUCKET_MS <= oldest) this.buckets.shift();
  }
}
