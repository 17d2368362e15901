import type { PushTarget } from '../../domain/push-target.js';

export type PushKind = PushTarget['kind'];
/** Why one push request failed: a dead subscription, a refusal, or a failure worth retrying. */
export type PushFailure = 'gone' | 'refused' | 'retryable';

/** Where the push scheduler reports; NodeMetrics is the one in production. */
export interface PushObserver {
  /** The push service took a wake, `seconds` after it was decided (retries included). */
  pushSent(kind: PushKind, seconds: number): void;
  /** One request to a push service failed. */
  pushFailed(kind: PushKind, failure: PushFailure): void;
  /** A target the push service called dead (404/410) was removed. */
  pushTargetRemoved(kind: PushKind): void;
}
