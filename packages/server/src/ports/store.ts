import type { DeviceAddress, DeviceRecord } from '../domain/device.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewActionEvent, ReceiptEvent } from '../domain/events.js';
import type { Group } from '../domain/group.js';
import type { MessageFacts } from '../domain/message-actions.js';
import type { PushTarget } from '../domain/push-target.js';

/**
 * Store: everything Courier keeps: accounts, their devices and device tokens, one-time codes,
 * pending device links, the inboxes of durable events (one per device), groups and media metadata.
 *
 * Guarantees every adapter gives (the store contract suite in test/store-contract.ts checks them):
 * - Durability: a write whose promise has resolved survives `kill -9` of the process.
 * - Atomicity: each method is one transaction; it happens whole or not at all.
 * - Devices: every account has its primary device (id 1); linked devices get the next id of the
 *   account, never one given before. Events addressed to a user (an InboxEntry) land in the
 *   inbox of each device the account has when the write commits.
 * - Ordering: `seq` is per device inbox, starts at 1, increases by exactly 1 per appended event and is
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
   * Makes `tokenHash` the token of the account's primary device (creating the account on first
   * use). In the same transaction every earlier token of the account stops working: the linked
   * devices are removed with their inboxes; the primary's inbox is kept; every push target of the
   * account is dropped (the old phone must not be woken). Answers the devices
   * whose tokens died (the primary's old one included, unless `tokenHash` is that same token).
   * Device ids keep counting: a device linked later never gets a revoked device's id.
   */
  registerPrimary(userId: string, tokenHash: string, now: number): Promise<{ revoked: RevokedDevice[] }>;
  deviceByTokenHash(tokenHash: string): Promise<DeviceAddress | undefined>;
  /** The subset of `userIds` that are registered accounts. */
  existingUsers(userIds: string[]): Promise<Set<string>>;
  /** The account was seen at `ts` (a socket of it closed): its last-seen time, and the device's when given. */
  setLastSeen(userId: string, ts: number, deviceId?: number): Promise<void>;
  /** Last time each known user was seen (registration counts); unknown users are absent. */
  lastSeen(userIds: string[]): Promise<Map<string, number>>;

  // Devices -------------------------------------------------------------------

  /** The devices of these accounts, by user then device id; unknown users have none. */
  devicesOf(userIds: string[]): Promise<DeviceRecord[]>;
  /** Records a device waiting to be linked; its codeHash and pollHash are unique. */
  createLink(link: PendingLink): Promise<void>;
  getLinkByPollHash(pollHash: string): Promise<PendingLink | undefined>;
  /**
   * The primary of `userId` approves the pending, unexpired link of `codeHash`: in one
   * transaction the link is taken (no second approval of it can succeed) and the device is
   * created with the link's token hash, unless the account already has `maxLinked` linked devices.
   */
  approveLink(codeHash: string, userId: string, now: number, maxLinked: number): Promise<LinkApproval>;
  /** Takes an approved link once: the first call answers its device, later ones undefined. */
  collectLink(pollHash: string): Promise<DeviceAddress | undefined>;
  /** Removes a linked device, its token, its inbox and its push target; answers its token hash (undefined when unknown). */
  removeDevice(device: DeviceAddress): Promise<{ tokenHash: string } | undefined>;

  // Messaging ---------------------------------------------------------------

  /**
   * Stores one message in the inbox of every device of every recipient user, and of every other
   * device of the sender (`fromDevice` excluded), in one transaction.
   * `message.to` is kept as given (a userId, or the groupId of a group message).
   * Idempotent per (message.from, message.id): a repeat appends nothing and answers
   * `duplicate: true` with the first serverId and ts.
   * In the same transaction it records the message's facts (for actions on it) and, when it has an
   * `expiresIn`, the time at which `expireMessages` deletes its undelivered copies.
   *
   * In the same transaction: for a 1:1 message (no `group`), a recipient who blocked the sender
   * gets nothing (the send is still remembered, so a repeat answers the same), and the others
   * become the sender's contacts; every recipient that gets a message carrying `media` may
   * fetch that blob from then on.
   */
  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): Promise<SendResult>;

  /** Appends events to inboxes in one transaction (membership changes, for one). */
  appendEvents(entries: InboxEntry[]): Promise<Appended[]>;

  /** Unacked events of a device's inbox with seq > afterSeq, oldest first, at most `limit`. */
  readInbox(device: DeviceAddress, afterSeq: number, limit: number): Promise<DurableEvent[]>;

  /** The highest seq ever given in this device's inbox (0 when none). */
  lastSeq(device: DeviceAddress): Promise<number>;

  /**
   * Deletes the events of the device with seq <= upTo. For each message among them that the
   * device's user received (not a copy of its own send), the first ack by any device of that
   * user appends, in the same transaction, one `delivered` receipt (by the user, with the acking
   * device's id, at `now`) per sender, to every device of the sender; later acks of the same
   * message by the user's other devices append none. Delivered messages are remembered
   * (recipient user, serverId, sender) so that `markRead` can find their senders later.
   */
  ackUpTo(device: DeviceAddress, upTo: number, now: number): Promise<Appended[]>;

  /**
   * Appends one `read` receipt (by the reader's user, at `now`) per sender of the given messages
   * that the user received, delivered or still in an inbox of one of its devices, to every device
   * of the sender; and one `read` receipt by the user itself, naming the same messages, to the
   * user's other devices. Unknown ids are ignored. A message gives at most one read receipt per
   * reading user, whichever of its devices reads it.
   */
  markRead(reader: DeviceAddress, serverIds: string[], now: number): Promise<Appended[]>;

  // Message actions -----------------------------------------------------------

  /** The answer first given to this (sender, clientId), by `sendMessage` or `storeAction`. */
  earlierAnswer(sender: string, clientId: string): Promise<{ serverId: string; ts: number } | undefined>;

  /** What actions on a message are checked against; undefined when unknown, deleted or swept. */
  messageFacts(serverId: string): Promise<MessageFacts | undefined>;

  /**
   * Stores an action (edit, delete, reaction) for the devices a message to the same recipients
   * would reach (every device of each recipient, the sender's other devices), in one transaction,
   * idempotent like `sendMessage` (same key space). A `delete` also, in the same transaction,
   * removes every copy of its target still in an inbox (of its recipients and of its author) and
   * forgets the target's facts, so that no later action finds it.
   */
  storeAction(action: NewActionEvent, recipients: string[], fromDevice: number): Promise<SendResult>;

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

  // Blocking, privacy and account deletion ---------------------------------------

  /** Blocks or unblocks; blocking twice, or unblocking a user not blocked, changes nothing. */
  setBlocked(blocker: string, blocked: string, on: boolean, now: number): Promise<void>;
  /** The users `blocker` blocks, in the order they were blocked. */
  blockedBy(blocker: string): Promise<string[]>;
  /** True when either user blocks the other. */
  blockedEitherWay(a: string, b: string): Promise<boolean>;
  setPresenceVisibility(userId: string, visibility: PresenceVisibility): Promise<void>;
  /**
   * Of the given (user, watcher) pairs, those where the watcher may see the user's presence: no
   * block between them either way, and the user's visibility is `everyone`, or `contacts` and
   * the watcher is a contact (a 1:1 message exchanged) or shares a group with it. A user always
   * sees itself; a user with no account is seen by nobody.
   */
  presenceAllowed(pairs: PresencePair[]): Promise<PresencePair[]>;
  /**
   * Removes the account and everything of it, in one transaction: its devices (tokens, inboxes,
   * pending links), code,
   * blocks (both ways), contacts, presence setting, media access, push targets, the facts of
   * its messages (no action on them is possible any more), sends remembered for idempotency, and its place in any group (members and admins, without events: a caller
   * that wants the members told leaves the groups first with changeGroup). Answers the devices
   * it had, with their token hashes (none when there was no account).
   */
  deleteAccount(userId: string): Promise<{ revoked: RevokedDevice[] }>;

  // Media -------------------------------------------------------------------

  /**
   * Lets `userId` fetch the blob; `uploadedBytes` (0 for a recipient) counts against its
   * upload quota from `now`. A second grant of the same blob to the same user keeps the first.
   */
  grantMedia(hash: string, userId: string, uploadedBytes: number, now: number): Promise<void>;
  mayFetchMedia(hash: string, userId: string): Promise<boolean>;
  /** Bytes of the blobs `userId` uploaded (and was first to grant itself) at or after `since`. */
  uploadedBytesSince(userId: string, since: number): Promise<number>;

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
  /** Undelivered events of a device's inbox, and how many of them are messages from others (a push's `unread`). */
  pendingCounts(device: DeviceAddress): Promise<{ events: number; messages: number }>;

  // Housekeeping and gauges ---------------------------------------------------

  /**
   * Deletes codes expired at or before `now` (those takeCodeTry refuses), links expired longer
   * than their time, and idempotency keys, read trackers and message facts older than theirs.
   */
  sweep(now: number, keepFor: RetentionTimes): Promise<void>;
  /** Undelivered events in all inboxes, and the time of the oldest (undefined when none). */
  backlog(): Promise<{ events: number; oldestTs?: number }>;
}

export type PresenceVisibility = 'everyone' | 'contacts' | 'nobody';

export interface PresencePair {
  user: string;
  watcher: string;
}

export interface PendingCode {
  phone: string;
  codeHash: string;
  expiresAt: number;
  tries: number;
}

export interface RevokedDevice {
  deviceId: number;
  tokenHash: string;
}

/** A device waiting to be linked: shown `codeHash`'s code, polling with `pollHash`'s token. */
export interface PendingLink {
  codeHash: string;
  pollHash: string;
  /** The hash of the token the device gets once approved. */
  tokenHash: string;
  name: string;
  expiresAt: number;
  /** Set once approved. */
  device?: DeviceAddress;
}

export type LinkApproval =
  | { outcome: 'approved'; deviceId: number; name: string }
  /** No pending link has this code, or it expired or was approved already. */
  | { outcome: 'unknown_code' }
  | { outcome: 'too_many_devices' };

export interface SendResult {
  serverId: string;
  ts: number;
  duplicate: boolean;
  /** The events appended, one per device reached; empty for a duplicate. */
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
  /** How long an expired device link is kept (its poll answers `expired` rather than unknown), in ms. */
  expiredLinksMs: number;
  /** How long actions may refer to a message (the longest action window), in ms. */
  messageFactsMs: number;
}

export type { ReceiptEvent };
