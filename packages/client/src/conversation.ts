/**
 * Folds a conversation's durable events (`message`, and the v2 actions `edit`, `delete`,
 * `reaction`) into what a client shows: each message with its latest text, a placeholder once
 * deleted, and its reactions counted per emoji with who reacted. Pure and synchronous (no socket,
 * no storage, no clock but the one passed in), so a browser app, a CLI and a test use it alike.
 *
 * Events may come in any order and more than once (a history merged with live events, repeats
 * after a reconnection): an action that arrives before its message waits for it, a repeat changes
 * nothing, and the latest action wins by `ts` (then by arrival). Only the author's edits and
 * deletes count, as the server enforces.
 */
import type { DeleteEvent, EditEvent, MediaRef, MessageEvent, ReactionEvent, ServerFrame } from './frames.js';

/** One emoji on a message: how many reacted with it, and who (in the order they did). */
export interface ReactionCount {
  emoji: string;
  count: number;
  users: string[];
}

/** A message as it stands after every action on it. */
export interface MessageView {
  serverId: string;
  /** The sender's client id. */
  id: string;
  from: string;
  to: string;
  ts: number;
  group?: string;
  /** The latest text (after edits); absent for a deleted message or media alone. */
  body?: string;
  /** Absent once deleted. */
  media?: MediaRef;
  replyTo?: string;
  /** When every copy disappears (ms), for a message sent with `expiresIn`. */
  expiresAt?: number;
  /** When the text was last edited (ms), if it was. */
  editedAt?: number;
  /** Deleted for everyone: show a placeholder ("This message was deleted"). */
  deleted: boolean;
  /** Per emoji, most reactions first (ties: the emoji used first). Empty once deleted. */
  reactions: ReactionCount[];
}

type ConversationEvent = MessageEvent | EditEvent | DeleteEvent | ReactionEvent;

/** An action with the position it arrived at, so that equal `ts` still order. */
interface Arrived<E> {
  event: E;
  order: number;
}

export class Conversation {
  readonly #messages = new Map<string, Arrived<MessageEvent>>();
  readonly #edits = new Map<string, Arrived<EditEvent>[]>();
  readonly #deletes = new Map<string, Arrived<DeleteEvent>[]>();
  /** target → reacting user → that user's latest reaction. */
  readonly #reactions = new Map<string, Map<string, Arrived<ReactionEvent>>>();
  /** serverIds of everything applied: repeats are ignored. */
  readonly #seen = new Set<string>();
  #arrivals = 0;

  /**
   * Takes one event into account. Other frame types (receipts, group events, ...) are ignored.
   * Answers the serverId of the message whose view changed (or may have, for an action that
   * waits for its message), or undefined when nothing changed.
   */
  apply(event: ServerFrame): string | undefined {
    if (!isConversationEvent(event) || this.#seen.has(event.serverId)) return undefined;
    this.#seen.add(event.serverId);
    const order = this.#arrivals++;
    switch (event.type) {
      case 'message':
        this.#messages.set(event.serverId, { event, order });
        return event.serverId;
      case 'edit':
        push(this.#edits, event.target, { event, order });
        return event.target;
      case 'delete':
        push(this.#deletes, event.target, { event, order });
        return event.target;
      case 'reaction': {
        const byUser = this.#reactions.get(event.target) ?? new Map<string, Arrived<ReactionEvent>>();
        const earlier = byUser.get(event.from);
        if (earlier === undefined || later({ event, order }, earlier)) byUser.set(event.from, { event, order });
        this.#reactions.set(event.target, byUser);
        return event.target;
      }
    }
  }

  /** Applies events in the order given. */
  applyAll(events: Iterable<ServerFrame>): void {
    for (const event of events) this.apply(event);
  }

  /** The message as it stands; undefined when unknown, or expired at `now`. */
  get(serverId: string, now: number = Date.now()): MessageView | undefined {
    const arrived = this.#messages.get(serverId);
    if (arrived === undefined) return undefined;
    const view = this.#view(arrived.event);
    return view.expiresAt !== undefined && view.expiresAt <= now ? undefined : view;
  }

  /** Every known message not expired at `now`, oldest first (by `ts`, then arrival). */
  messages(now: number = Date.now()): MessageView[] {
    return [...this.#messages.values()]
      .sort((a, b) => a.event.ts - b.event.ts || a.order - b.order)
      .map((arrived) => this.#view(arrived.event))
      .filter((view) => view.expiresAt === undefined || view.expiresAt > now);
  }

  #view(message: MessageEvent): MessageView {
    const view: MessageView = { serverId: message.serverId, id: message.id, from: message.from, to: message.to, ts: message.ts, deleted: false, reactions: [] };
    if (message.group !== undefined) view.group = message.group;
    if (message.replyTo !== undefined) view.replyTo = message.replyTo;
    if (message.expiresIn !== undefined) view.expiresAt = message.ts + message.expiresIn * 1000;
    const byAuthor = <E extends { from: string }>(list: Arrived<E>[] | undefined) => (list ?? []).filter((a) => a.event.from === message.from);
    if (byAuthor(this.#deletes.get(message.serverId)).length > 0) {
      view.deleted = true;
      return view;
    }
    if (message.media !== undefined) view.media = message.media;
    const edit = latest(byAuthor(this.#edits.get(message.serverId)));
    if (edit !== undefined) {
      view.body = edit.event.body;
      view.editedAt = edit.event.ts;
    } else if (message.body !== undefined) {
      view.body = message.body;
    }
    view.reactions = countReactions(this.#reactions.get(message.serverId));
    return view;
  }
}

/** The conversation an event belongs to, seen from `me`: the groupId, or the other user of a 1:1. */
export function conversationId(event: { from: string; to: string; group?: string }, me: string): string {
  if (event.group !== undefined) return event.group;
  if (!event.to.startsWith('+')) return event.to;
  return event.from === me ? event.to : event.from;
}

function countReactions(byUser: Map<string, Arrived<ReactionEvent>> | undefined): ReactionCount[] {
  if (byUser === undefined) return [];
  const counts = new Map<string, { users: Arrived<ReactionEvent>[] }>();
  for (const arrived of [...byUser.values()].sort((a, b) => (later(a, b) ? 1 : -1))) {
    if (arrived.event.emoji === '') continue;
    const entry = counts.get(arrived.event.emoji) ?? { users: [] };
    entry.users.push(arrived);
    counts.set(arrived.event.emoji, entry);
  }
  // Map order is first-use order, which breaks ties between equal counts.
  return [...counts]
    .map(([emoji, { users }]) => ({ emoji, count: users.length, users: users.map((a) => a.event.from) }))
    .sort((a, b) => b.count - a.count);
}

function isConversationEvent(event: ServerFrame): event is ConversationEvent {
  const e = event as Partial<ConversationEvent>;
  if (typeof e.serverId !== 'string' || typeof e.from !== 'string' || typeof e.ts !== 'number') return false;
  if (e.type === 'message') return typeof e.to === 'string';
  if (e.type === 'edit') return typeof e.target === 'string' && typeof e.body === 'string';
  if (e.type === 'delete') return typeof e.target === 'string';
  if (e.type === 'reaction') return typeof e.target === 'string' && typeof e.emoji === 'string';
  return false;
}

function later<E extends { ts: number }>(a: Arrived<E>, b: Arrived<E>): boolean {
  return a.event.ts > b.event.ts || (a.event.ts === b.event.ts && a.order > b.order);
}

function latest<E extends { ts: number }>(list: Arrived<E>[]): Arrived<E> | undefined {
  let best: Arrived<E> | undefined;
  for (const arrived of list) if (best === undefined || later(arrived, best)) best = arrived;
  return best;
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
