import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SmsOutbox } from '../src/sms-outbox.js';

test('follows the file as lines are appended, even split mid-line, and waits for a code', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sms-'));
  const file = join(dir, 'sms.jsonl');
  const outbox = new SmsOutbox(file);
  try {
    // The file does not exist yet: the reader waits for it.
    const waiting = outbox.codeFor('+15550000002', 2000);
    await appendFile(file, `${JSON.stringify({ phone: '+15550000001', code: '111111', at: 1 })}\n{"phone":"+1555000`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await appendFile(file, `0002","code":"222222","at":2}\n`);
    assert.equal(await waiting, '222222');
    assert.equal(await outbox.codeFor('+15550000001', 100), '111111');
    await appendFile(file, `${JSON.stringify({ phone: '+15550000001', code: '333333', at: 3 })}\n`);
    assert.equal(await outbox.codeFor('+15550000001', 1000), '333333');
    await assert.rejects(outbox.codeFor('+15559999999', 50), /no SMS for \+15559999999/);
  } finally {
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  }
});
