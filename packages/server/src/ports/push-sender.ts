import type { PushTarget } from '../domain/push-target.js';

/**
 * PushSender: hands one wake to the push service of one kind of target (a browser's Web Push
 * service, or the operator's push gateway for a mobile app).
 *
 * Guarantees every adapter gives:
 * - `send` never rejects: the push service's answer, a timeout or a network failure all come
 *   back as a PushOutcome.
 * - One `send` is one request to the target's own URL, with a timeout; redirects are not
 *   followed, so a push service cannot steer the server to another host. Retrying is the
 *   caller's decision (it owns the backoff), never the adapter's.
 * - The wake says only how many messages wait (`unread`); no message text leaves the server.
 * - Outcomes: 2xx → `sent`; 404 and 410 → `gone` (the subscription is dead); 429, 5xx, timeouts
 *   and network errors → `retry`, with the service's `Retry-After` when it gave one; any other
 *   answer → `refused`.
 */
export interface PushSender<T extends PushTarget = PushTarget> {
  readonly kind: T['kind'];
  send(target: T, wake: Wake): Promise<PushOutcome>;
}

/** What a push tells the device: come online, `unread` messages wait. */
export interface Wake {
  userId: string;
  deviceId: number;
  unread: number;
}

export type PushOutcome =
  | { kind: 'sent'; status: number }
  | { kind: 'gone'; status: number }
  /** `status` is absent for a timeout or network failure. */
  | { kind: 'retry'; status?: number; retryAfterMs?: number; reason: string }
  | { kind: 'refused'; status: number; reason: string };
