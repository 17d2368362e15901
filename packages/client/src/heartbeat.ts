/**
 * Detects a dead connection: a half-open TCP connection never reports its close. After
 * `intervalMs` of silence it pings; if nothing at all has come back `intervalMs` after the ping,
 * the connection is dead. Judging from the ping rather than from the silence alone keeps a
 * throttled timer (a background browser tab) from dropping a healthy connection.
 */
export class Heartbeat {
  #lastFrameAt = Date.now();
  /** When the ping went out, until a frame (its pong or any other) arrives. */
  #pingSentAt: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    /** 0: never ping. */
    private readonly intervalMs: number,
    private readonly sendPing: (at: number) => void,
    private readonly dead: () => void,
  ) {}

  /** Any frame proves the connection alive. */
  frameArrived(): void {
    this.#lastFrameAt = Date.now();
  }

  start(): void {
    // Checking twice per interval bounds how late a silence or a missing answer is noticed.
    if (this.intervalMs > 0) this.#timer = setInterval(() => this.#check(), this.intervalMs / 2);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  #check(): void {
    const now = Date.now();
    if (this.#pingSentAt !== undefined && this.#lastFrameAt >= this.#pingSentAt) this.#pingSentAt = undefined;
    if (this.#pingSentAt !== undefined) {
      if (now - this.#pingSentAt >= this.intervalMs) this.dead();
      return;
    }
    if (now - this.#lastFrameAt < this.intervalMs) return;
    this.#pingSentAt = now;
    this.sendPing(now);
  }
}
