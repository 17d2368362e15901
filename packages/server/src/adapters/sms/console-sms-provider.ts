import type { SmsMessage, SmsProvider } from '../../ports/sms-provider.js';

/** Prints the code on the server's terminal: the default when no other provider is chosen. */
export class ConsoleSmsProvider implements SmsProvider {
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(line)) {}

  async sendCode(message: SmsMessage): Promise<void> {
    this.write(`sms to ${message.phone}: your Courier code is ${message.code}\n`);
  }
}
