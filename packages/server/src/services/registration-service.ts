import { PRIMARY_DEVICE_ID, type DeviceAddress } from '../domain/device.js';
import { CourierError } from '../domain/errors.js';
import type { Bus } from '../ports/bus.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { SmsProvider } from '../ports/sms-provider.js';
import type { Store } from '../ports/store.js';
import { hashSecret, keyedHash, newCode, newToken, sameHash } from './secrets.js';

export interface RegistrationSettings {
  codeTtlMs: number;
  codeDigits: number;
  maxWrongTries: number;
  /** The server secret that keys the stored code hashes. */
  codeKey: string;
  /** Undefined: no rate limits (load tests). */
  limits?: { perPhone: number; perAddress: number; verifiesPerPhone: number; windowMs: number };
}

const phoneRegex = /^\+[0-9]{8,15}$/;

/** Phone verification by one-time code, device tokens, and revocation of the account's earlier devices. */
export class RegistrationService {
  constructor(
    private readonly store: Store,
    private readonly sms: SmsProvider,
    private readonly bus: Bus,
    private readonly limiter: RateLimiter,
    private readonly settings: RegistrationSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async requestCode(phone: unknown, clientAddress: string): Promise<{ expiresIn: number }> {
    assertPhone(phone);
    await this.limit(`reg:addr:${clientAddress}`, 'perAddress');
    await this.limit(`reg:phone:${phone}`, 'perPhone');
    const code = newCode(this.settings.codeDigits);
    const at = this.now();
    await this.store.saveCode({ phone, codeHash: this.codeHash(phone, code), expiresAt: at + this.settings.codeTtlMs, tries: 0 });
    await this.sms.sendCode({ phone, code, at });
    return { expiresIn: Math.round(this.settings.codeTtlMs / 1000) };
  }

  /**
   * Checks the code; on success the phone's account gets a new primary device token, and every
   * earlier token of the account (the old primary's, the linked devices') stops working.
   */
  async verify(phone: unknown, code: unknown, clientAddress: string): Promise<{ userId: string; token: string; deviceId: number }> {
    assertPhone(phone);
    await this.limit(`reg:addr:${clientAddress}`, 'perAddress');
    // Per phone too: guesses from many addresses still add up against one code.
    await this.limit(`reg:verify:${phone}`, 'verifiesPerPhone');
    if (typeof code !== 'string') throw invalidCode('The code must be a string.');
    // The try is counted before the comparison, atomically: guesses sent at once cannot all
    // compare against a code whose earlier wrong tries are not yet counted.
    const attempt = await this.store.takeCodeTry(phone, this.now(), this.settings.maxWrongTries);
    if (attempt === undefined) {
      throw invalidCode('No code is waiting for this phone: it expired, was burnt by wrong tries, was used, or was never requested; request a new one.');
    }
    if (!sameHash(attempt.codeHash, this.codeHash(phone, code))) {
      // The sentence tells a person whether typing again can help.
      const left = this.settings.maxWrongTries - attempt.tries;
      if (left > 0) throw invalidCode(`The code is wrong; ${left} ${left === 1 ? 'try' : 'tries'} left.`);
      throw invalidCode('The code is wrong, and that was the last try: the code is burnt; request a new one.');
    }
    // Two right answers at once (a user's double tap) register once; the other gets invalid_code.
    if (!(await this.store.consumeCode(phone, attempt.codeHash))) throw invalidCode('This code was just used by another request; request a new one.');
    const token = newToken();
    // The store drops the push targets of the revoked devices in the same transaction: the old
    // phone must not be woken for the new one's messages.
    const { revoked } = await this.store.registerPrimary(phone, hashSecret(token), this.now());
    await Promise.all(
      revoked.map(({ deviceId, tokenHash }) => this.bus.signalDevice({ userId: phone, deviceId }, { kind: 'revoked', tokenHash })),
    );
    return { userId: phone, token, deviceId: PRIMARY_DEVICE_ID };
  }

  /** The device a token belongs to, or undefined when it is unknown or revoked. */
  async authenticate(token: string): Promise<(DeviceAddress & { tokenHash: string }) | undefined> {
    const tokenHash = hashSecret(token);
    const device = await this.store.deviceByTokenHash(tokenHash);
    return device === undefined ? undefined : { ...device, tokenHash };
  }

  private codeHash(phone: string, code: string): string {
    return keyedHash(this.settings.codeKey, `${phone}:${code}`);
  }

  private async limit(key: string, which: 'perPhone' | 'perAddress' | 'verifiesPerPhone'): Promise<void> {
    const limits = this.settings.limits;
    if (limits === undefined) return;
    const decision = await this.limiter.hit(key, limits[which], limits.windowMs);
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw new CourierError('rate_limited', `Too many registration requests; try again in ${seconds} s.`, 429, seconds);
    }
  }
}

function assertPhone(phone: unknown): asserts phone is string {
  if (typeof phone !== 'string' || !phoneRegex.test(phone)) {
    throw new CourierError('invalid_phone', 'The phone number must be in E.164 form: + and 8 to 15 digits.', 400);
  }
}

/** One code for every refusal (the contract's), with a sentence that says what happened and what to do. */
function invalidCode(message: string): CourierError {
  return new CourierError('invalid_code', message, 401);
}
