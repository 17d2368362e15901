import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lastCode, newPhone, postJson } from './support/registration.js';
import { simultaneousPosts } from './support/simultaneous-posts.js';
import { startTestNodeOn, type Backend, type TestNode } from './support/test-node.js';

const TRIALS = 8;
const WRONG_GUESSES = 30;

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`registration code guessing in parallel (${backend})`, () => {
    let t: TestNode;
    // Rate limits off: what is tested is the try count itself, not the limiter in front of it.
    before(async () => {
      t = await startTestNodeOn(backend, ['--no-rate-limits']);
    });
    after(() => t.stop());

    it(`never accepts the right code written at the same moment as ${WRONG_GUESSES} wrong ones`, async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const phone = newPhone();
        await postJson(`${t.url}/v1/register/request`, { phone });
        const code = await lastCode(t.smsFile, phone);
        const wrong = Array.from({ length: WRONG_GUESSES }, (_, i) => wrongCode(code, i));
        const statuses = await simultaneousPosts(t.url, '/v1/register/verify', [
          ...wrong.map((guess) => ({ phone, code: guess })),
          { phone, code },
        ]);
        assert.deepEqual(
          statuses.filter((status) => status !== 401),
          [],
          `trial ${trial}: every guess must be refused once 5 wrong ones were made (statuses ${statuses.join(',')})`,
        );
        const after = await postJson(`${t.url}/v1/register/verify`, { phone, code });
        assert.equal(after.status, 401, `trial ${trial}: the code is burnt`);
      }
    });
  });
}

/** The i-th six-digit code that is not `code`. */
function wrongCode(code: string, i: number): string {
  const guess = String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
  return guess;
}
