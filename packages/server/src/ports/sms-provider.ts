/**
 * SmsProvider: hands a one-time code to the phone. Resolves once the provider has accepted it
 * (written, printed or posted); throws a CourierError `sms_failed` when it could not.
 */
export interface SmsProvider {
  sendCode(message: SmsMessage): Promise<void>;
}

export interface SmsMessage {
  phone: string;
  code: string;
  at: number;
}
