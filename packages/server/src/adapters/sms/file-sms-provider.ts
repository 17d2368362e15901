import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SmsMessage, SmsProvider } from '../../ports/sms-provider.js';

/** Appends one JSON line per code to a file: for development and tests. */
export class FileSmsProvider implements SmsProvider {
  constructor(private readonly file: string) {}

  async sendCode(message: SmsMessage): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify({ phone: message.phone, code: message.code, at: message.at })}\n`);
  }
}
