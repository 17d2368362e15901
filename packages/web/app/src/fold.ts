/**
 * What the open conversation shows after edits, deletes and reactions: the SDK's `Conversation`
 * folds the stored message events and action events into one view per message.
 */
import { Conversation, type MessageEvent, type MessageView } from 'courier-chat-client';
import type { StoredAction, StoredMessage } from './history.js';

export function foldViews(messages: StoredMessage[], actions: StoredAction[]): Map<string, MessageView> {
  const conversation = new Conversation();
  for (const message of messages) if (message.serverId !== undefined) conversation.apply(asEvent(message));
  conversation.applyAll(actions);
  const views = new Map<string, MessageView>();
  for (const view of conversation.messages(Number.MAX_SAFE_INTEGER - 1)) views.set(view.serverId, view);
  return views;
}

function asEvent(message: StoredMessage): MessageEvent {
  const event: MessageEvent = { type: 'message', seq: 0, serverId: message.serverId!, id: message.id, from: message.from, to: message.chat, ts: message.ts };
  if (message.body !== undefined) event.body = message.body;
  if (message.media !== undefined) event.media = message.media;
  if (message.replyTo !== undefined) event.replyTo = message.replyTo;
  return event;
}
