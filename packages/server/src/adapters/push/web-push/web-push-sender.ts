import webPush from 'web-push';
import type { WebPushTarget } from '../../../domain/push-target.js';
import type { PushOutcome, PushSender, Wake } from '../../../ports/push-sender.js';
import { outcomeOfFailure, outcomeOfStatus } from '../push-outcome.js';

/** The application server's VAPID key pair (RFC 8292), base64url as browsers take it. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export interface WebPushSettings {
  vapid: VapidKeys;
  /** The VAPID `sub`: a mailto: or https: contact for the push service's operator. */
  subject: string;
  timeoutMs: number;
}

/** How long the push service keeps a wake for a device that is switched off. */
const TTL_SECONDS = 24 * 60 * 60;
/** One topic for every wake: the push service keeps only the newest undelivered one per subscription. */
const TOPIC = 'courier-wake';

/** A new key pair, made once per deployment (the store keeps the first one made). */
export function makeVapidKeys(): VapidKeys {
  return webPush.generateVAPIDKeys();
}

/**
 * Web Push (RFC 8030) through the maintained `web-push` package: the payload encrypted with
 * `aes128gcm` (RFC 8291) for the subscription's keys, a VAPID JWT (RFC 8292) for its origin.
 */
export class WebPushSender implements PushSender<WebPushTarget> {
  readonly kind = 'webpush';

  constructor(private readonly settings: WebPushSettings) {}

  async send(target: WebPushTarget, wake: Wake): Promise<PushOutcome> {
    try {
      const answer = await webPush.sendNotification(
        { endpoint: target.endpoint, keys: target.keys },
        JSON.stringify({ type: 'wake', unread: wake.unread }),
        {
          vapidDetails: { subject: this.settings.subject, ...this.settings.vapid },
          contentEncoding: 'aes128gcm',
          TTL: TTL_SECONDS,
          urgency: 'high',
          topic: TOPIC,
          timeout: this.settings.timeoutMs,
        },
      );
      return outcomeOfStatus(answer.statusCode, undefined);
    } catch (error) {
      if (error instanceof webPush.WebPushError) return outcomeOfStatus(error.statusCode, headerOf(error.headers, 'retry-after'));
      return outcomeOfFailure(error);
    }
  }
}

function headerOf(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
