import { CourierError } from './errors.js';

/**
 * What the server remembers of a message so that later actions on it (edit, delete, reaction)
 * can be authorised: who wrote it, where it went, when. Never its text.
 */
export interface MessageFacts {
  serverId: string;
  author: string;
  /** The message's `to`: a userId, or a groupId. */
  to: string;
  /** The users whose inboxes got it (for a group: the members but the author, at sending time). */
  recipients: string[];
  ts: number;
}

export type ActionKind = 'edit' | 'delete' | 'react';

/** How long after a message each action stays allowed, in ms. */
export interface ActionWindows {
  editMs: number;
  deleteMs: number;
  reactMs: number;
}

/** The contract's bounds of `expiresIn`, in seconds: one minute to 90 days. */
export const EXPIRES_IN = { min: 60, max: 90 * 24 * 3600 } as const;

/** Longest emoji accepted, in UTF-16 code units: room for the longest ZWJ and tag sequences. */
export const MAX_EMOJI_LENGTH = 32;

/** How long the facts of a message must be kept: as long as the longest window. */
export function factsRetentionMs(windows: ActionWindows): number {
  return Math.max(windows.editMs, windows.deleteMs, windows.reactMs);
}

/**
 * Throws `not_allowed` unless `actor` may do `kind` on `target` in the conversation `to` at `now`:
 * the target exists (and was not deleted), belongs to this conversation, the actor wrote it (edit,
 * delete) or took part in it (reaction), and the action's window has not passed. Membership of a
 * group at the time of the action is checked by the caller, against the group itself.
 */
export function authoriseAction(
  kind: ActionKind,
  actor: string,
  to: string,
  target: MessageFacts | undefined,
  now: number,
  windows: ActionWindows,
): void {
  if (target === undefined) throw notAllowed('There is no message with this serverId (or it was deleted, or is too old).');
  if (!sameConversation(target, actor, to)) throw notAllowed(`The message is not part of your conversation with ${to}.`);
  if (kind !== 'react' && target.author !== actor) throw notAllowed(`Only the author of a message may ${kind} it.`);
  if (kind === 'react' && target.author !== actor && !target.recipients.includes(actor)) {
    throw notAllowed('Only the author and the recipients of a message may react to it.');
  }
  const windowMs = kind === 'edit' ? windows.editMs : kind === 'delete' ? windows.deleteMs : windows.reactMs;
  if (now > target.ts + windowMs) {
    throw notAllowed(`The message is too old to ${kind}: that is allowed for ${describeMs(windowMs)} after it was sent.`);
  }
}

/** True when `text` is exactly one user-perceived character (or empty, which takes a reaction back). */
export function isOneGrapheme(text: string): boolean {
  if (text === '') return true;
  if (text.length > MAX_EMOJI_LENGTH) return false;
  const segments = new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text);
  let count = 0;
  for (const _ of segments) if (++count > 1) return false;
  return /\S/u.test(text);
}

/** A 1:1 message belongs to the pair of its author and recipient, whichever of them acts; a group message to its group. */
function sameConversation(target: MessageFacts, actor: string, to: string): boolean {
  if (!isUserId(target.to)) return target.to === to;
  return (target.author === actor && target.to === to) || (target.author === to && target.to === actor);
}

export function isUserId(address: string): boolean {
  return address.startsWith('+');
}

function notAllowed(message: string): CourierError {
  return new CourierError('not_allowed', message, 403);
}

function describeMs(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 72 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}
