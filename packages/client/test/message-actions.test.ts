/**
 * reply, edit, deleteForEveryone and react over a real server, folded by `Conversation` into what
 * the recipient shows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Conversation, CourierSocketError, conversationId, type ServerFrame } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil } from './support/wait.js';

const env = sharedServer(['alice', 'bob']);

test('a reply, an edit, reactions and a delete reach the other side and fold into its view', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const atBob = new Conversation();
  const atAlice = new Conversation();
  const fold = (conversation: Conversation, me: string) => (event: ServerFrame & { from: string; to: string; group?: string }) => {
    assert.equal(conversationId(event, me), me === env.bob.userId ? env.alice.userId : env.bob.userId);
    conversation.apply(event);
  };
  for (const name of ['message', 'edit', 'delete', 'reaction'] as const) {
    b.on(name, fold(atBob, env.bob.userId));
    a.on(name, fold(atAlice, env.alice.userId));
  }
  try {
    await a.connect();
    await b.connect();
    const question = await a.send({ to: env.bob.userId, body: 'lunch at 12?' });
    const answer = await b.reply(env.alice.userId, question.serverId, 'yes');
    await waitUntil('alice has the reply', () => atAlice.get(answer.serverId) !== undefined);
    assert.equal(atAlice.get(answer.serverId)?.replyTo, question.serverId);

    await a.edit(env.bob.userId, question.serverId, 'lunch at 1?');
    await b.react(env.alice.userId, question.serverId, '👍');
    await a.react(env.bob.userId, question.serverId, '👍');
    await waitUntil('bob sees the edit and alice\'s reaction', () => atBob.get(question.serverId)?.reactions[0]?.count === 1 && atBob.get(question.serverId)?.editedAt !== undefined);
    const atBobNow = atBob.get(question.serverId)!;
    assert.equal(atBobNow.body, 'lunch at 1?');
    assert.deepEqual(atBobNow.reactions, [{ emoji: '👍', count: 1, users: [env.alice.userId] }]);

    const farewell = await a.send({ to: env.bob.userId, body: 'sent by mistake' });
    await a.deleteForEveryone(env.bob.userId, farewell.serverId);
    await waitUntil('bob sees the placeholder', () => atBob.get(farewell.serverId)?.deleted === true);
    assert.equal(atBob.get(farewell.serverId)?.body, undefined);

    await assert.rejects(b.edit(env.alice.userId, question.serverId, 'mine now'), (err: unknown) => err instanceof CourierSocketError && err.code === 'not_allowed');
    await assert.rejects(b.react(env.alice.userId, question.serverId, 'ok'), (err: unknown) => err instanceof CourierSocketError && err.code === 'invalid_frame');
    await assert.rejects(a.send({ to: env.bob.userId, body: 'x', expiresIn: 30 }), TypeError);
  } finally {
    await a.close();
    await b.close();
  }
});
