import { CourierError } from '../../domain/errors.js';
import type { SmsMessage, SmsProvider } from '../../ports/sms-provider.js';

/** POSTs `{phone, code, at}` as JSON to a URL: the bridge to a real SMS gateway. */
export class WebhookSmsProvider implements SmsProvider {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5000,
  ) {}

  async sendCode(message: SmsMessage): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new CourierError('sms_failed', `The SMS webhook could not be reached: ${(err as Error).message}`, 502);
    }
    if (!response.ok) {
      throw new CourierError('sms_failed', `The SMS webhook answered ${response.status}.`, 502);
    }
  }
}
