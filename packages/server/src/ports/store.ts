import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewActionEvent, ReceiptEvent } from '../domain/events.js';
import type { Group } from '../domain/group.js';
import type { MessageFacts } from '../domain/message-actions.js';
import type { PushTarget } from '../domain/push-target.js';

/**
 * Store: everything Courier keeps: accounts and their device tokens, one-time codes,
 * the inboxes of durable events, groups and media metadata.
 *
 * Guarantees every adapter gives (the store contract suite in test/store-contract.ts checks them):
 * - Durability: a write whose promise has resolved survives `kill -9` of the process.
 * - Atomicity: each method is one transaction; it happens whole or not at all.
 * - Ordering: `seq` is per inbox, starts at 1, increases by exactly 1 per appended event and is
 *   never reused, even after events are acked. Within one inbox, seq order is commit order, so a
 *   reader that has seen seq N has seen every event below N that was not yet acked.
 * - Group commit: adapters may batch writes that arrive together into one transaction; each
 *   promise still resolves only after its own write is committed.
 * - Idempotency: `sendMessage` or `storeAction` with a (sender, clientId) already used, by either,
 *   appends nothing and returns the first serverId and ts.
 * - No text after delivery: of a message whose copies are all acked, deleted or expired, only its
 *   facts (author, to, recipients, ts; see `messageFacts`) remain, until `sweep` forgets them.
 */
export interface Store {
  /** Creates or upgrades the schema; safe to call by several nodes at once. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;

  // Registration ------------------------------------------------------------

  /** Replaces any pending code of this phone, with its tries reset to 0. */
  saveCode(code: PendingCode): Promise<void>;
  getCode(phone: string): Promise<PendingCode | undefined>;
  /**
   * Counts one try of the phone's code, in one statement, before the caller compares anything:
   * answers the code's hash and its tries including this one, or undefined (counting nothing)
   * when there is no code, it expired at or before `now`, or it already had `maxTries` tries.
   * However many tries arrive at once, on however many nodes, at most `maxTries` get an answer.
   */
  takeCodeTry(phone: string, now: number, maxTries: number): Promise<{ codeHash: string; tries: number } | undefined>;
  /** Deletes the phone's code if it still has this hash; true only for the one call that deleted it. */
  consumeCode(phone: string, codeHash: string): Promise<boolean>;

  /**
   * A server-wide secret named `name`: the first call of the deployment stores `candidate`, and
   * every call, on every node and after restarts, answers the stored value.
   */
  serverSecret(name: string, candidate: string): Promise<string>;

  /**
   * Makes `tokenHash` the only valid token of the account (creating the account on first use).
   * The previous token stops working in the same transaction. The inbox is kept.
   */
  registerDevice(userId: string, tokenHash: string, now: number): Promise<{ previousTokenHash?: string }>;
  userIdByTokenHash(tokenHash: string): Promise<string | undefined>;
  /** The subset of `userIds` that are registered accounts. */
  existingUsers(userIds: string[]): Promise<Set<string>>;
  setLastSeen(userId: string, ts: number): Promise<void>;
  /** Last time each known user was seen (registration counts); unknown users are absent. */
  lastSeen(userIds: string[]): Promise<Map<string, number>>;

  // Messaging ---------------------------------------------------------------

  /**
   * Stores one message in the inbox of every recipient, in one transaction.
   * `message.to` is kept as given (a userId, or the groupId of a group message).
   * Idempotent per (message.from, message.id): a repeat appends nothing and answers
   * `duplicate: true` with the first serverId and ts.
   * In the same transaction it records the message's facts (for actions on it) and, when it has an
   * `expiresIn`, the time at which `expireMessages` deletes its undelivered copies.
   */
  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[]): Promise<SendResult>;

  /** Appends events to inboxes in one transaction (membership changes, for one). */
  appendEvents(entries: InboxEntry[]): Promise<Appended[]>;

  /** Unacked events of an inbox with seq > afterSeq, oldest first, at most `limit`. */
  readInbox(userId: string, afterSeq: number, limit: number): Promise<DurableEvent[]>;

  /** The highest seq ever given in this inbox (0 when none). */
  lastSeq(userId: string): Promise<number>;

  /**
   * Deletes the events of `userId` with seq <= upTo and, in the same transaction, appends one
   * `delivered` receipt (by `userId`, at `now`) per sender of the messages among them. The
   * delivered messages are remembered (recipient, serverId, sender) so that `markRead` can
   * find their senders later; nothing else of them is kept.
   */
  ackUpTo(userId: string, upTo: number, now: number): Promise<Appended[]>;

  /**
   * Appends one `read` receipt (by `reader`, at `now`) per sender of the given messages that
   * `reader` received, delivered or still in its inbox. Unknown ids are ignored. A message
   * gives at most one read receipt.
   */
  markRead(reader: string, serverIds: string[], now: number): Promise<Appended[]>;

  // Message actions -----------------------------------------------------------

  /** The answer first given to this (sender, clientId), by `sendMessage` or `storeAction`. */
  earlierAnswer(sender: string, clientId: string): Promise<{ serverId: string; ts: number } | undefined>;

  /** What actions on a message are checked against; undefined when unknown, deleted or swept. */
  messageFacts(serverId: string): Promise<MessageFacts | undefined>;

  /**
   * Stores an action (edit, delete, reaction) in the inbox of every recipient, in one transaction,
   * idempotent like `sendMessage` (same key space). A `delete` also, in the same transaction,
   * removes every copy of its target still in an inbox (of its recipients and of its author) and
   * forgets the target's facts, so that no later action finds it.
   */
  storeAction(action: NewActionEvent, recipients: string[]): Promise<SendResult>;

  /**
   * Deletes from every inbox the copies of messages whose expiry is at or before `now`, for at
   * most `limit` messages, and answers how many messages it handled. Safe to run on several nodes
   * at once: each expired message is handled by one of them (the others skip it, without waiting).
   */
  expireMessages(now: number, limit: number): Promise<number>;

  // Groups ------------------------------------------------------------------

  /** Creates the group and appends the given events, in one transaction. */
  createGroup(group: Group, events: InboxEntry[]): Promise<Appended[]>;
  getGroup(groupId: string): Promise<Group | undefined>;
  /**
   * The groups `userId` is a member of, oldest first. A scan of the groups (fine for listing
   * one user's groups on request; not for a hot path).
   */
  groupsOf(userId: string): Promise<Group[]>;
  /**
   * Reads the group, lets `change` decide the new group and the events to append, and writes
   * both in one transaction; no other change of the same group interleaves. `change` throws
   * to refuse, and the error comes out of this call unchanged.
   */
  changeGroup(
    groupId: string,
    change: (group: Group) => { group: Group; events: InboxEntry[] },
  ): Promise<{ group: Group; appended: Appended[] }>;

  // Media -------------------------------------------------------------------

  /** Records a stored blob; a second record of the same hash keeps the first. */
  saveMedia(media: MediaRecord): Promise<void>;
  getMedia(hash: string): Promise<MediaRecord | undefined>;
  /** Hashes of blobs created before `olderThan` that no undelivered message refers to. */
  unreferencedMedia(olderThan: number, limit: number): Promise<string[]>;
  deleteMedia(hash: string): Promise<void>;

  // Push --------------------------------------------------------------------

  /** Makes `target` the device's only push target, replacing any earlier one. */
  savePushTarget(userId: string, deviceId: number, target: PushTarget): Promise<void>;
  pushTarget(userId: string, deviceId: number): Promise<PushTarget | undefined>;
  /**
   * Removes the device's push target and answers whether there was one. With `only`, removes it
   * only while the stored target still equals `only`: a subscription the push service refused
   * never removes the newer one the device saved meanwhile.
   */
  deletePushTarget(userId: string, deviceId: number, only?: PushTarget): Promise<boolean>;
  /** Undelivered events of an inbox, and how many of them are messages (a push's `unread`). */
  pendingCounts(userId: string): Promise<{ events: number; messages: number }>;

  // Housekeeping and gauges ---------------------------------------------------

  /** Deletes expired codes, and idempotency keys, read trackers and message facts older than their time. */
  sweep(now: number, keepFor: RetentionTimes): Promise<void>;
  /** Undelivered events in all inboxes, and the time of the oldest (undefined when none). */
  backlog(): Promise<{ events: number; oldestTs?: number }>;
}

export interface PendingCode {
  phone: string;
  codeHash: string;
  expiresAt: number;
  tries: number;
}

export interface SendResult {
  serverId: string;
  ts: number;
  duplicate: boolean;
  /** The events appended, one per recipient; empty for a duplicate. */
  appended: Appended[];
}

export interface MediaRecord {
  hash: string;
  size: number;
  mime: string;
  createdAt: number;
}

export interface RetentionTimes {
  /** How long a (sender, clientId) answers with the first `sent`, in ms. */
  idempotencyMs: number;
  /** How long a delivered message can still be marked read, in ms. */
  readTrackingMs: number;
  /** How long actions may refer to a message (the longest action window), in ms. */
  messageFactsMs: number;
}

export type { ReceiptEvent };
