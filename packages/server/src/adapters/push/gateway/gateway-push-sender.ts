import type { GatewayPushTarget } from '../../../domain/push-target.js';
import type { PushOutcome, PushSender, Wake } from '../../../ports/push-sender.js';
import { outcomeOfFailure, outcomeOfStatus } from '../push-outcome.js';

/**
 * A push gateway of the operator (the pattern of Matrix's Sygnal and Tinode's push gateway):
 * Courier POSTs `{"pushkey","userId","deviceId","unread"}` as JSON, and the gateway, which holds
 * the app's FCM/APNs credentials, wakes the phone.
 */
export class GatewayPushSender implements PushSender<GatewayPushTarget> {
  readonly kind = 'gateway';

  constructor(private readonly timeoutMs: number) {}

  async send(target: GatewayPushTarget, wake: Wake): Promise<PushOutcome> {
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pushkey: target.pushkey, userId: wake.userId, deviceId: wake.deviceId, unread: wake.unread }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // Read the body, so the connection goes back to the pool.
      await response.arrayBuffer();
      return outcomeOfStatus(response.status, response.headers.get('retry-after') ?? undefined);
    } catch (error) {
      return outcomeOfFailure(error);
    }
  }
}
