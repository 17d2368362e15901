import type { PushOutcome } from '../../ports/push-sender.js';

/** How an HTTP answer of a push service reads, as the PushSender port defines it. */
export function outcomeOfStatus(status: number, retryAfter: string | undefined, now = Date.now()): PushOutcome {
  if (status >= 200 && status <= 299) return { kind: 'sent', status };
  if (status === 404 || status === 410) return { kind: 'gone', status };
  if (status === 429 || status >= 500) {
    const retryAfterMs = retryAfterToMs(retryAfter, now);
    return { kind: 'retry', status, reason: `HTTP ${status}`, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  return { kind: 'refused', status, reason: `HTTP ${status}` };
}

/** A network failure or timeout: worth another try. */
export function outcomeOfFailure(error: unknown): PushOutcome {
  return { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 10.2.3), in ms from `now`; undefined when absent or unreadable. */
export function retryAfterToMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
