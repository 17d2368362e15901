/** The rules of message actions on their own: who may act on which message, until when. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CourierError } from '../src/domain/errors.js';
import { authoriseAction, isOneGrapheme, type ActionKind, type MessageFacts } from '../src/domain/message-actions.js';

const A = '+15550000001';
const B = '+15550000002';
const C = '+15550000003';
const T0 = 1_700_000_000_000;
const windows = { editMs: 1000, deleteMs: 2000, reactMs: 3000 };

const direct: MessageFacts = { serverId: 's1', author: A, to: B, recipients: [B], ts: T0 };
const inGroup: MessageFacts = { serverId: 's2', author: A, to: 'g1', recipients: [B, C], ts: T0 };

function refusal(kind: ActionKind, actor: string, to: string, target: MessageFacts | undefined, now = T0): string | undefined {
  try {
    authoriseAction(kind, actor, to, target, now, windows);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof CourierError);
    assert.equal(err.code, 'not_allowed');
    return err.message;
  }
}

describe('authoriseAction', () => {
  it('lets the author edit and delete, and both sides react, in a 1:1 conversation', () => {
    assert.equal(refusal('edit', A, B, direct), undefined);
    assert.equal(refusal('delete', A, B, direct), undefined);
    assert.equal(refusal('react', A, B, direct), undefined);
    assert.equal(refusal('react', B, A, direct), undefined, 'the recipient addresses the author');
    assert.match(refusal('edit', B, A, direct)!, /Only the author/);
    assert.match(refusal('delete', B, A, direct)!, /Only the author/);
  });

  it('refuses a missing target and one of another conversation', () => {
    assert.match(refusal('react', A, B, undefined)!, /no message/);
    assert.match(refusal('edit', A, C, direct)!, /not part of your conversation/);
    assert.match(refusal('react', C, A, direct)!, /not part of your conversation/);
    assert.match(refusal('react', B, 'g2', inGroup)!, /not part of your conversation/);
    assert.match(refusal('react', B, B, direct)!, /not part of your conversation/);
  });

  it('in a group: the author edits, members who received it react, others may not', () => {
    assert.equal(refusal('edit', A, 'g1', inGroup), undefined);
    assert.equal(refusal('react', C, 'g1', inGroup), undefined);
    assert.match(refusal('react', '+15550000009', 'g1', inGroup)!, /author and the recipients/);
    assert.match(refusal('delete', C, 'g1', inGroup)!, /Only the author/);
  });

  it('allows each action up to the end of its window, not after', () => {
    for (const [kind, ms] of [['edit', 1000], ['delete', 2000], ['react', 3000]] as const) {
      assert.equal(refusal(kind, A, B, direct, T0 + ms), undefined, `${kind} at the end of its window`);
      assert.match(refusal(kind, A, B, direct, T0 + ms + 1)!, /too old/, `${kind} after its window`);
    }
  });
});

describe('isOneGrapheme', () => {
  it('takes one user-perceived character, or "" to take a reaction back', () => {
    for (const emoji of ['👍', '❤️', '👩🏽‍💻', '🇫🇷', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'é', '']) assert.equal(isOneGrapheme(emoji), true, emoji);
  });

  it('refuses two characters, blanks, and one grapheme longer than 32 code units', () => {
    for (const text of ['👍👍', 'ok', ' ', '\n', `e${'\u0301'.repeat(40)}`]) assert.equal(isOneGrapheme(text), false, JSON.stringify(text));
  });
});
