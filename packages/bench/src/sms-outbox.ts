import { open, type FileHandle } from 'node:fs/promises';

/**
 * Follows the file SMS provider's outbox (one JSON line per code) from where it last stopped,
 * so thousands of registrations cost one pass over the file rather than one pass each.
 */
export class SmsOutbox {
  private handle: FileHandle | undefined;
  private offset = 0;
  private partial = '';
  private readonly codes = new Map<string, string>();
  private reading: Promise<void> | undefined;

  constructor(private readonly file: string) {}

  /** The newest code sent to `phone`, waiting for it at most `timeoutMs`. */
  async codeFor(phone: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = this.codes.get(phone);
      if (code !== undefined) {
        this.codes.delete(phone);
        return code;
      }
      if (Date.now() > deadline) throw new Error(`no SMS for ${phone} in ${this.file} within ${timeoutMs} ms`);
      await (this.reading ??= this.readNew().finally(() => (this.reading = undefined)));
      if (!this.codes.has(phone)) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    await this.reading;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async readNew(): Promise<void> {
    if (this.handle === undefined) {
      try {
        this.handle = await open(this.file, 'r');
      } catch (err) {
        // The provider creates the file with its first code; until then there is nothing to read.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
    }
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      const lines = (this.partial + buffer.toString('utf8', 0, bytesRead)).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        if (line === '') continue;
        const sms = JSON.parse(line) as { phone: string; code: string };
        this.codes.set(sms.phone, sms.code);
      }
    }
  }
}
