/**
 * Exponential backoff with jitter for reconnections. "Equal jitter": the delay is drawn between
 * half and all of the exponential ceiling, so thousands of clients dropped by one server restart
 * spread their reconnections instead of arriving together, yet none retries at once in a tight loop.
 */

export interface BackoffOptions {
  /** Ceiling of the first delay, in ms (default 500). */
  initialDelayMs?: number;
  /** Largest ceiling, in ms (default 30 000). */
  maxDelayMs?: number;
  /** Growth of the ceiling per failed attempt (default 2). */
  factor?: number;
  /** Source of randomness in [0, 1) (tests may fix it). */
  random?: () => number;
}

export class ReconnectBackoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialDelayMs ?? 500;
    this.#max = options.maxDelayMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one more attempt. */
  next(): number {
    const ceiling = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt += 1;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** Called once a connection has proved healthy. */
  reset(): void {
    this.#attempt = 0;
  }
}
