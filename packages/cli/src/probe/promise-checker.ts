/**
 * Checks the promises of the wire contract for the probe's own messages, end to end:
 *
 * - every `send` is answered by `sent` (the first tick) within the deadline;
 * - nothing answered by `sent` is lost: the recipient gets it within the deadline;
 * - nothing is duplicated: after the SDK dropped repeats by `seq`, no message arrives twice;
 * - order is kept: one sender's messages to one recipient arrive in the order they were sent;
 * - receipts come back: `delivered` and then `read` (the probe's recipients read everything).
 *
 * Pure bookkeeping (no sockets, no timers): the runner reports what happens and calls `sweep()`
 * now and then; every broken promise is handed to `onAnomaly` once.
 */
import { LatencyStats } from './latency-stats.js';

export type AnomalyKind = 'unanswered' | 'send_failed' | 'lost' | 'duplicate' | 'reordered' | 'no_delivered_receipt' | 'no_read_receipt';

export interface Anomaly {
  kind: AnomalyKind;
  /** A sentence naming the message: who sent it to whom, its number, its serverId. */
  detail: string;
}

export type Stage = 'sent' | 'received' | 'delivered' | 'read';

interface Tracked {
  from: string;
  to: string;
  n: number;
  sendAt: number;
  /** When `sent` came (the message may reach its recipient before that). */
  sentAt?: number;
  serverId?: string;
  receivedAt?: number;
  deliveredAt?: number;
  readAt?: number;
  /** Anomalies already reported for it, so each is reported once. */
  reported: Set<AnomalyKind>;
}

export interface CheckerCounts {
  sending: number;
  sent: number;
  received: number;
  delivered: number;
  read: number;
  anomalies: number;
}

export class PromiseChecker {
  readonly latency = new LatencyStats<Stage>();
  readonly counts: CheckerCounts = { sending: 0, sent: 0, received: 0, delivered: 0, read: 0, anomalies: 0 };
  readonly #byClientId = new Map<string, Tracked>();
  readonly #byServerId = new Map<string, Tracked>();
  /** Per sender→recipient pair: the numbers sent, in order, and the highest number received. */
  readonly #pairs = new Map<string, { lastReceived: number }>();
  readonly #byPairAndN = new Map<string, Tracked>();

  constructor(
    private readonly deadlineMs: number,
    private readonly onAnomaly: (anomaly: Anomaly) => void,
    /** Each latency as it is measured (for the metrics), besides the summary's percentiles. */
    private readonly onLatency: (stage: Stage, ms: number) => void = () => undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  #measure(stage: Stage, ms: number): void {
    this.latency.add(stage, ms);
    this.onLatency(stage, ms);
  }

  /** A send is being written: message number `n` of the pair `from`→`to`, with this client id. */
  sending(clientId: string, from: string, to: string, n: number): void {
    const tracked: Tracked = { from, to, n, sendAt: this.now(), reported: new Set() };
    this.#byClientId.set(clientId, tracked);
    this.#byPairAndN.set(pairKey(from, to, n), tracked);
    this.counts.sending++;
  }

  sent(clientId: string, serverId: string): void {
    const t = this.#byClientId.get(clientId);
    if (t === undefined || t.sentAt !== undefined) return;
    t.sentAt = this.now();
    t.serverId ??= serverId;
    this.#byServerId.set(serverId, t);
    this.counts.sent++;
    this.#measure('sent', t.sentAt - t.sendAt);
  }

  sendFailed(clientId: string, reason: string): void {
    const t = this.#byClientId.get(clientId);
    if (t !== undefined) this.#report(t, 'send_failed', `the send was refused: ${reason}`);
  }

  /** The recipient's app got message `n` of `from`→`to` (after the SDK's dedupe by seq). */
  received(from: string, to: string, n: number, serverId: string): void {
    const t = this.#byPairAndN.get(pairKey(from, to, n));
    if (t === undefined) return; // not ours (an earlier run's), nothing to check
    if (t.receivedAt !== undefined) {
      this.#report(t, 'duplicate', `arrived twice (serverIds ${t.serverId ?? '?'} and ${serverId})`);
      return;
    }
    t.receivedAt = this.now();
    t.serverId ??= serverId;
    this.#byServerId.set(serverId, t);
    this.counts.received++;
    this.#measure('received', t.receivedAt - t.sendAt);
    const pair = this.#pair(from, to);
    if (n < pair.lastReceived) {
      this.#report(t, 'reordered', `arrived after message ${pair.lastReceived} of the same sender`);
      return;
    }
    // Everything sent before it and answered by `sent` must have arrived already (order is kept):
    // a gap is a message lost (or out of order, which is as broken).
    for (let missing = pair.lastReceived + 1; missing < n; missing++) {
      const skipped = this.#byPairAndN.get(pairKey(from, to, missing));
      if (skipped?.sentAt !== undefined && skipped.receivedAt === undefined) {
        this.#report(skipped, 'lost', `message ${n} arrived, but this earlier one (answered by sent) never did`);
      }
    }
    pair.lastReceived = n;
  }

  receipt(status: 'delivered' | 'read', serverIds: string[]): void {
    for (const serverId of serverIds) {
      const t = this.#byServerId.get(serverId);
      if (t === undefined) continue;
      const at = this.now();
      if (status === 'delivered' && t.deliveredAt === undefined) {
        t.deliveredAt = at;
        this.counts.delivered++;
        this.#measure('delivered', at - t.sendAt);
      } else if (status === 'read' && t.readAt === undefined) {
        t.readAt = at;
        this.counts.read++;
        this.#measure('read', at - t.sendAt);
      }
    }
  }

  /** Reports every promise past its deadline, and forgets messages whose story is complete. */
  sweep(): void {
    const now = this.now();
    for (const [clientId, t] of this.#byClientId) {
      const late = now - t.sendAt > this.deadlineMs;
      if (t.readAt !== undefined && t.deliveredAt !== undefined && t.receivedAt !== undefined && t.sentAt !== undefined) {
        this.#forget(clientId, t);
        continue;
      }
      if (!late) continue;
      if (t.sentAt === undefined) this.#report(t, 'unanswered', `no sent answer within ${this.deadlineMs} ms`);
      else if (t.receivedAt === undefined) this.#report(t, 'lost', `answered by sent, not received within ${this.deadlineMs} ms`);
      else if (t.deliveredAt === undefined) this.#report(t, 'no_delivered_receipt', `received, but no delivered receipt within ${this.deadlineMs} ms`);
      else if (t.readAt === undefined) this.#report(t, 'no_read_receipt', `read, but no read receipt within ${this.deadlineMs} ms`);
      // Reported: keep it no longer than twice the deadline (a late arrival still counts as a duplicate check).
      if (now - t.sendAt > 2 * this.deadlineMs) this.#forget(clientId, t);
    }
  }

  /** Messages whose story is not complete yet (no anomaly reported for them either). */
  get pending(): number {
    let pending = 0;
    for (const t of this.#byClientId.values()) {
      const complete = t.sentAt !== undefined && t.receivedAt !== undefined && t.deliveredAt !== undefined && t.readAt !== undefined;
      if (t.reported.size === 0 && !complete) pending++;
    }
    return pending;
  }

  #forget(clientId: string, t: Tracked): void {
    this.#byClientId.delete(clientId);
    this.#byPairAndN.delete(pairKey(t.from, t.to, t.n));
    if (t.serverId !== undefined) this.#byServerId.delete(t.serverId);
  }

  #pair(from: string, to: string): { lastReceived: number } {
    const key = `${from}>${to}`;
    let pair = this.#pairs.get(key);
    if (pair === undefined) {
      pair = { lastReceived: 0 };
      this.#pairs.set(key, pair);
    }
    return pair;
  }

  #report(t: Tracked, kind: AnomalyKind, what: string): void {
    if (t.reported.has(kind)) return;
    t.reported.add(kind);
    this.counts.anomalies++;
    this.onAnomaly({ kind, detail: `message ${t.n} from ${t.from} to ${t.to}${t.serverId === undefined ? '' : ` (serverId ${t.serverId})`}: ${what}` });
  }
}

function pairKey(from: string, to: string, n: number): string {
  return `${from}>${to}#${n}`;
}
