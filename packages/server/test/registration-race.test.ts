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

    it(`compares at most 5 of ${WRONG_GUESSES} wrong guesses and the right one written at the same moment`, async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const phone = newPhone();
        await postJson(`${t.url}/v1/register/request`, { phone });
        const code = await lastCode(t.smsFile, phone);
        const wrong = Array.from({ length: WRONG_GUESSES }, (_, i) => wrongCode(code, i));
        const answers = await simultaneousPosts(t.url, '/v1/register/verify', [
          ...wrong.map((guess) => ({ phone, code: guess })),
          { phone, code },
        ]);
        // Which guess is counted first is up to the server, so the right one may fairly win when
        // it is among the first five. What must hold whatever the order: at most five guesses are
        // compared with the code (answered 200, or "the code is wrong"); every other one finds
        // the code burnt. Before the fix, all 31 were compared.
        const compared = answers.filter((answer) => answer.status === 200 || /code is wrong/.test(answer.body));
        assert.ok(
          compared.length <= 5,
          `trial ${trial}: ${compared.length} guesses were compared with the code (${answers.map((a) => a.status).join(',')})`,
        );
        assert.deepEqual(
          answers.filter((answer) => answer.status !== 200 && answer.status !== 401).map((a) => a.status),
          [],
          `trial ${trial}: every guess gets 200 or 401`,
        );
        const after = await postJson(`${t.url}/v1/register/verify`, { phone, code });
        assert.equal(after.status, 401, `trial ${trial}: the code is burnt or used`);
      }
    });
  });
}

/** The i-th six-digit code that is not `code`. */
function wrongCode(code: string, i: number): string {
  const guess = String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
  return guess;
}
