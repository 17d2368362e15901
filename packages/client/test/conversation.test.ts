/**
 * The conversation helper on its own: events in, views out. No server: it is pure.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Conversation, conversationId, type DeleteEvent, type EditEvent, type MessageEvent, type ReactionEvent } from '../src/index.js';

const ALICE = '+15550000001';
const BOB = '+15550000002';
const CAROL = '+15550000003';
const T0 = 1_700_000_000_000;

let counter = 0;
const nextId = () => `srv-${++counter}`;

function message(from: string, to: string, extra: Partial<MessageEvent> = {}): MessageEvent {
  return { type: 'message', seq: counter, serverId: nextId(), id: `c-${counter}`, from, to, ts: T0, body: 'hello', ...extra };
}
function edit(target: MessageEvent, body: string, ts: number, from = target.from): EditEvent {
  return { type: 'edit', seq: 0, serverId: nextId(), id: 'e', from, to: target.to, target: target.serverId, body, ts };
}
function remove(target: MessageEvent, ts: number, from = target.from): DeleteEvent {
  return { type: 'delete', seq: 0, serverId: nextId(), id: 'd', from, to: target.to, target: target.serverId, ts };
}
function react(target: MessageEvent, from: string, emoji: string, ts: number): ReactionEvent {
  return { type: 'reaction', seq: 0, serverId: nextId(), id: 'r', from, to: target.from, target: target.serverId, emoji, ts };
}

describe('Conversation', () => {
  test('a message alone is shown as it came, with its reply and expiry', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB, { replyTo: 'srv-earlier', expiresIn: 60, group: undefined });
    assert.equal(c.apply(m), m.serverId);
    assert.deepEqual(c.get(m.serverId, T0), {
      serverId: m.serverId, id: m.id, from: ALICE, to: BOB, ts: T0, body: 'hello', replyTo: 'srv-earlier',
      expiresAt: T0 + 60_000, deleted: false, reactions: [],
    });
  });

  test('the latest edit by ts wins, whatever the arrival order; an edit by someone else is ignored', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB, { body: 'helo' });
    c.applyAll([edit(m, 'hello!', T0 + 2000), m, edit(m, 'hello', T0 + 1000), edit(m, 'hijacked', T0 + 3000, BOB)]);
    const view = c.get(m.serverId, T0);
    assert.equal(view?.body, 'hello!');
    assert.equal(view?.editedAt, T0 + 2000);
  });

  test('a delete leaves a placeholder: no text, no media, no reactions, and later edits change nothing', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB, { media: { hash: 'a'.repeat(64), mime: 'image/png', size: 3 } });
    c.applyAll([m, react(m, BOB, '👍', T0 + 1), remove(m, T0 + 2), edit(m, 'too late', T0 + 3)]);
    assert.deepEqual(c.get(m.serverId, T0), { serverId: m.serverId, id: m.id, from: ALICE, to: BOB, ts: T0, deleted: true, reactions: [] });
  });

  test('a delete by someone other than the author is ignored', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB);
    c.applyAll([m, remove(m, T0 + 1, BOB)]);
    assert.equal(c.get(m.serverId, T0)?.deleted, false);
  });

  test('reactions are counted per emoji with who reacted; a new reaction replaces the user\'s earlier one; "" takes it back', () => {
    const c = new Conversation();
    const m = message(ALICE, 'g1', { group: 'g1' });
    c.applyAll([
      m,
      react(m, BOB, '👍', T0 + 1),
      react(m, CAROL, '❤️', T0 + 2),
      react(m, ALICE, '❤️', T0 + 3),
      react(m, BOB, '😂', T0 + 4),
      react(m, BOB, '❤️', T0 + 5),
    ]);
    assert.deepEqual(c.get(m.serverId, T0)?.reactions, [{ emoji: '❤️', count: 3, users: [CAROL, ALICE, BOB] }]);
    c.apply(react(m, CAROL, '', T0 + 6));
    c.apply(react(m, CAROL, '🎉', T0 + 5.5)); // older than her take-back: changes nothing
    assert.deepEqual(c.get(m.serverId, T0)?.reactions, [{ emoji: '❤️', count: 2, users: [ALICE, BOB] }]);
  });

  test('equal counts keep the emoji used first first', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB);
    c.applyAll([m, react(m, BOB, '🎉', T0 + 2), react(m, ALICE, '👍', T0 + 1)]);
    assert.deepEqual(c.get(m.serverId, T0)?.reactions.map((r) => r.emoji), ['👍', '🎉']);
  });

  test('repeats change nothing: the same event twice counts once', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB);
    const r = react(m, BOB, '👍', T0 + 1);
    assert.equal(c.apply(m), m.serverId);
    assert.equal(c.apply(r), m.serverId);
    assert.equal(c.apply({ ...r }), undefined);
    assert.equal(c.apply({ ...m }), undefined);
    assert.deepEqual(c.get(m.serverId, T0)?.reactions, [{ emoji: '👍', count: 1, users: [BOB] }]);
  });

  test('actions on a message not seen yet wait for it', () => {
    const c = new Conversation();
    const m = message(ALICE, BOB);
    c.applyAll([remove(m, T0 + 5)]);
    assert.equal(c.get(m.serverId, T0), undefined);
    assert.deepEqual(c.messages(T0), []);
    c.apply(m);
    assert.equal(c.get(m.serverId, T0)?.deleted, true);
  });

  test('messages() lists oldest first and leaves out the expired ones; other frames are ignored', () => {
    const c = new Conversation();
    const late = message(BOB, ALICE, { ts: T0 + 10 });
    const early = message(ALICE, BOB, { ts: T0, expiresIn: 60 });
    const sameTime = message(BOB, ALICE, { ts: T0 + 10 });
    c.applyAll([late, early, sameTime, { type: 'receipt', seq: 9, status: 'read', serverIds: [early.serverId], by: BOB, ts: T0 }, { type: 'typing' }]);
    assert.deepEqual(c.messages(T0 + 59_999).map((v) => v.serverId), [early.serverId, late.serverId, sameTime.serverId]);
    assert.deepEqual(c.messages(T0 + 60_000).map((v) => v.serverId), [late.serverId, sameTime.serverId]);
    assert.equal(c.get(early.serverId, T0 + 60_000), undefined);
  });

  test('conversationId: the group, or the other user of a 1:1, from either side', () => {
    assert.equal(conversationId(message(ALICE, BOB), ALICE), BOB);
    assert.equal(conversationId(message(ALICE, BOB), BOB), ALICE);
    assert.equal(conversationId(message(ALICE, 'g1', { group: 'g1' }), BOB), 'g1');
    assert.equal(conversationId({ from: BOB, to: 'g1' }, ALICE), 'g1');
  });
});
