/**
 * The sends not yet answered by `sent`. They survive reconnections and are written again, with
 * the same client id, on each new connection: the server answers a repeat with the first `sent`
 * and delivers nothing twice.
 *
 * Flow control: a window bounds how many sends are on the wire at once. It shrinks by half when
 * the server says `rate_limited` (or closes with 1008) and grows back slowly with each answer,
 * so a backlog flushed after a reconnection adapts to whatever limit the server enforces. After a
 * `rate_limited`, every unanswered send is written again after a pause: when the error names no
 * send (`ref`), the SDK cannot know which one the server dropped, and repeating the others is
 * harmless because the server is idempotent per client id.
 */
import { CourierSocketError } from './errors.js';
import type { OutgoingFrame, SentAnswer, SentFrame } from './frames.js';

interface PendingSend {
  frame: OutgoingFrame;
  resolve(answer: SentAnswer): void;
  reject(err: Error): void;
  onWire: boolean;
  notBefore: number;
}

const firstPauseMs = 1_000;
const maxPauseMs = 30_000;

export class Outbox {
  readonly #pending = new Map<string, PendingSend>();
  readonly #maxWindow: number;
  #window: number;
  #onWire = 0;
  #pauseMs = firstPauseMs;
  #pausedUntil = 0;

  constructor(maxInFlight: number) {
    this.#maxWindow = Math.max(1, maxInFlight);
    this.#window = this.#maxWindow;
  }

  add(frame: OutgoingFrame): Promise<SentAnswer> {
    return new Promise((resolve, reject) => {
      this.#pending.set(frame.id, { frame, resolve, reject, onWire: false, notBefore: 0 });
    });
  }

  get size(): number {
    return this.#pending.size;
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /** The frames to write now, oldest first, within the window. */
  take(now: number): OutgoingFrame[] {
    const out: OutgoingFrame[] = [];
    const window = Math.floor(this.#window);
    for (const p of this.#pending.values()) {
      if (this.#onWire >= window) break;
      if (p.onWire || p.notBefore > now) continue;
      p.onWire = true;
      this.#onWire++;
      out.push(p.frame);
    }
    return out;
  }

  /** When the earliest held-back send may go, if one waits beyond `now`. */
  nextRetryAt(now: number): number | undefined {
    let at: number | undefined;
    for (const p of this.#pending.values()) {
      if (!p.onWire && p.notBefore > now && (at === undefined || p.notBefore < at)) at = p.notBefore;
    }
    return at;
  }

  settle(sent: SentFrame): boolean {
    const p = this.#pending.get(sent.id);
    if (p === undefined) return false;
    this.#remove(p);
    this.#pauseMs = firstPauseMs;
    // Additive increase: about one more slot per window's worth of answers.
    this.#window = Math.min(this.#maxWindow, this.#window + 1 / this.#window);
    p.resolve({ id: sent.id, serverId: sent.serverId, ts: sent.ts });
    return true;
  }

  /**
   * The server refused a frame for its rate (or closed with 1008): halve the window and write every
   * unanswered send again after a pause. The errors of one burst count once: while paused, only
   * the named send is held back.
   */
  congested(now: number, id?: string): void {
    if (now < this.#pausedUntil) {
      const p = id === undefined ? undefined : this.#pending.get(id);
      if (p !== undefined) this.#holdBack(p, this.#pausedUntil);
      return;
    }
    this.#window = Math.max(1, this.#window / 2);
    this.#pausedUntil = now + this.#pauseMs;
    this.#pauseMs = Math.min(maxPauseMs, this.#pauseMs * 2);
    for (const p of this.#pending.values()) this.#holdBack(p, this.#pausedUntil);
  }

  /** How long the current pause lasts from `now` (0 when not paused). */
  pauseLeft(now: number): number {
    return Math.max(0, this.#pausedUntil - now);
  }

  fail(id: string, err: Error): boolean {
    const p = this.#pending.get(id);
    if (p === undefined) return false;
    this.#remove(p);
    p.reject(err);
    return true;
  }

  /** The connection is gone: nothing is on the wire any more, everything goes again on the next one. */
  offWire(): void {
    for (const p of this.#pending.values()) p.onWire = false;
    this.#onWire = 0;
  }

  rejectAll(code: string, message: string): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#onWire = 0;
    for (const p of all) p.reject(new CourierSocketError(code, message, p.frame.id));
  }

  #holdBack(p: PendingSend, until: number): void {
    if (p.onWire) this.#onWire--;
    p.onWire = false;
    p.notBefore = until;
  }

  #remove(p: PendingSend): void {
    this.#pending.delete(p.frame.id);
    if (p.onWire) this.#onWire--;
  }
}
