import { CourierError } from '../domain/errors.js';
import type { DeviceAddress, DeviceRecord } from '../domain/device.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewActionEvent } from '../domain/events.js';
import type { Group } from '../domain/group.js';
import type { MessageFacts } from '../domain/message-actions.js';
import type { PushTarget } from '../domain/push-target.js';
import type {
  LinkApproval,
  MediaRecord,
  PendingCode,
  PendingLink,
  PresencePair,
  PresenceVisibility,
  RetentionTimes,
  RevokedDevice,
  SendResult,
  Store,
} from '../ports/store.js';

/** Where a TimedStore reports; NodeMetrics is the one in production. */
export interface StoreObserver {
  /** A write committed after `seconds` (its wait in a group commit included). */
  committed(op: string, seconds: number): void;
  /** A call failed for a reason of the store's own (not a CourierError it was asked to pass on). */
  failed(op: string): void;
  /** New messages stored (a repeated client id is not new). */
  messagesSent(count: number): void;
  /** Messages whose recipient acked them: the delivered receipts' serverIds. */
  messagesDelivered(count: number): void;
  /** Messages marked read: the read receipts' serverIds. */
  messagesRead(count: number): void;
}

/**
 * A Store that times its writes and counts its failures and the messages they carry, around
 * any adapter. The store's answers are the exact source of those counts: an ack says how many
 * messages it delivered only through the receipts it appended.
 */
export class TimedStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly observer: StoreObserver,
  ) {}

  init(): Promise<void> {
    return this.counted('init', () => this.inner.init());
  }
  close(): Promise<void> {
    return this.counted('close', () => this.inner.close());
  }
  ping(): Promise<void> {
    return this.counted('ping', () => this.inner.ping());
  }

  saveCode(code: PendingCode): Promise<void> {
    return this.write('saveCode', () => this.inner.saveCode(code));
  }
  getCode(phone: string): Promise<PendingCode | undefined> {
    return this.counted('getCode', () => this.inner.getCode(phone));
  }
  takeCodeTry(phone: string, now: number, maxTries: number): Promise<{ codeHash: string; tries: number } | undefined> {
    return this.write('takeCodeTry', () => this.inner.takeCodeTry(phone, now, maxTries));
  }
  consumeCode(phone: string, codeHash: string): Promise<boolean> {
    return this.write('consumeCode', () => this.inner.consumeCode(phone, codeHash));
  }
  serverSecret(name: string, candidate: string): Promise<string> {
    return this.write('serverSecret', () => this.inner.serverSecret(name, candidate));
  }
  registerPrimary(userId: string, tokenHash: string, now: number): Promise<{ revoked: RevokedDevice[] }> {
    return this.write('registerPrimary', () => this.inner.registerPrimary(userId, tokenHash, now));
  }
  deviceByTokenHash(tokenHash: string): Promise<DeviceAddress | undefined> {
    return this.counted('deviceByTokenHash', () => this.inner.deviceByTokenHash(tokenHash));
  }
  existingUsers(userIds: string[]): Promise<Set<string>> {
    return this.counted('existingUsers', () => this.inner.existingUsers(userIds));
  }
  setLastSeen(userId: string, ts: number, deviceId?: number): Promise<void> {
    return this.write('setLastSeen', () => this.inner.setLastSeen(userId, ts, deviceId));
  }
  lastSeen(userIds: string[]): Promise<Map<string, number>> {
    return this.counted('lastSeen', () => this.inner.lastSeen(userIds));
  }

  devicesOf(userIds: string[]): Promise<DeviceRecord[]> {
    return this.counted('devicesOf', () => this.inner.devicesOf(userIds));
  }
  createLink(link: PendingLink): Promise<void> {
    return this.write('createLink', () => this.inner.createLink(link));
  }
  getLinkByPollHash(pollHash: string): Promise<PendingLink | undefined> {
    return this.counted('getLinkByPollHash', () => this.inner.getLinkByPollHash(pollHash));
  }
  approveLink(codeHash: string, userId: string, now: number, maxLinked: number): Promise<LinkApproval> {
    return this.write('approveLink', () => this.inner.approveLink(codeHash, userId, now, maxLinked));
  }
  collectLink(pollHash: string): Promise<DeviceAddress | undefined> {
    return this.write('collectLink', () => this.inner.collectLink(pollHash));
  }
  removeDevice(device: DeviceAddress): Promise<{ tokenHash: string } | undefined> {
    return this.write('removeDevice', () => this.inner.removeDevice(device));
  }

  async sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): Promise<SendResult> {
    const result = await this.write('sendMessage', () => this.inner.sendMessage(message, recipients, fromDevice));
    if (!result.duplicate) this.observer.messagesSent(1);
    return result;
  }
  appendEvents(entries: InboxEntry[]): Promise<Appended[]> {
    return this.write('appendEvents', () => this.inner.appendEvents(entries));
  }
  readInbox(device: DeviceAddress, afterSeq: number, limit: number): Promise<DurableEvent[]> {
    return this.counted('readInbox', () => this.inner.readInbox(device, afterSeq, limit));
  }
  lastSeq(device: DeviceAddress): Promise<number> {
    return this.counted('lastSeq', () => this.inner.lastSeq(device));
  }
  async ackUpTo(device: DeviceAddress, upTo: number, now: number): Promise<Appended[]> {
    const receipts = await this.write('ackUpTo', () => this.inner.ackUpTo(device, upTo, now));
    this.observer.messagesDelivered(receiptCount(receipts, 'delivered'));
    return receipts;
  }
  async markRead(reader: DeviceAddress, serverIds: string[], now: number): Promise<Appended[]> {
    const receipts = await this.write('markRead', () => this.inner.markRead(reader, serverIds, now));
    // The reader's own other devices hear of the read too; those copies are no read receipts.
    this.observer.messagesRead(receiptCount(receipts.filter((a) => a.userId !== reader.userId), 'read'));
    return receipts;
  }

  earlierAnswer(sender: string, clientId: string): Promise<{ serverId: string; ts: number } | undefined> {
    return this.counted('earlierAnswer', () => this.inner.earlierAnswer(sender, clientId));
  }
  messageFacts(serverId: string): Promise<MessageFacts | undefined> {
    return this.counted('messageFacts', () => this.inner.messageFacts(serverId));
  }
  storeAction(action: NewActionEvent, recipients: string[], fromDevice: number): Promise<SendResult> {
    return this.write('storeAction', () => this.inner.storeAction(action, recipients, fromDevice));
  }
  expireMessages(now: number, limit: number): Promise<number> {
    return this.write('expireMessages', () => this.inner.expireMessages(now, limit));
  }

  createGroup(group: Group, events: InboxEntry[]): Promise<Appended[]> {
    return this.write('createGroup', () => this.inner.createGroup(group, events));
  }
  getGroup(groupId: string): Promise<Group | undefined> {
    return this.counted('getGroup', () => this.inner.getGroup(groupId));
  }
  groupsOf(userId: string): Promise<Group[]> {
    return this.counted('groupsOf', () => this.inner.groupsOf(userId));
  }
  changeGroup(
    groupId: string,
    change: (group: Group) => { group: Group; events: InboxEntry[] },
  ): Promise<{ group: Group; appended: Appended[] }> {
    return this.write('changeGroup', () => this.inner.changeGroup(groupId, change));
  }

  setBlocked(blocker: string, blocked: string, on: boolean, now: number): Promise<void> {
    return this.write('setBlocked', () => this.inner.setBlocked(blocker, blocked, on, now));
  }
  blockedBy(blocker: string): Promise<string[]> {
    return this.counted('blockedBy', () => this.inner.blockedBy(blocker));
  }
  blockedEitherWay(a: string, b: string): Promise<boolean> {
    return this.counted('blockedEitherWay', () => this.inner.blockedEitherWay(a, b));
  }
  setPresenceVisibility(userId: string, visibility: PresenceVisibility): Promise<void> {
    return this.write('setPresenceVisibility', () => this.inner.setPresenceVisibility(userId, visibility));
  }
  presenceAllowed(pairs: PresencePair[]): Promise<PresencePair[]> {
    return this.counted('presenceAllowed', () => this.inner.presenceAllowed(pairs));
  }
  deleteAccount(userId: string): Promise<{ revoked: RevokedDevice[] }> {
    return this.write('deleteAccount', () => this.inner.deleteAccount(userId));
  }
  grantMedia(hash: string, userId: string, uploadedBytes: number, now: number): Promise<void> {
    return this.write('grantMedia', () => this.inner.grantMedia(hash, userId, uploadedBytes, now));
  }
  mayFetchMedia(hash: string, userId: string): Promise<boolean> {
    return this.counted('mayFetchMedia', () => this.inner.mayFetchMedia(hash, userId));
  }
  uploadedBytesSince(userId: string, since: number): Promise<number> {
    return this.counted('uploadedBytesSince', () => this.inner.uploadedBytesSince(userId, since));
  }
  saveMedia(media: MediaRecord): Promise<void> {
    return this.write('saveMedia', () => this.inner.saveMedia(media));
  }
  getMedia(hash: string): Promise<MediaRecord | undefined> {
    return this.counted('getMedia', () => this.inner.getMedia(hash));
  }
  unreferencedMedia(olderThan: number, limit: number): Promise<string[]> {
    return this.counted('unreferencedMedia', () => this.inner.unreferencedMedia(olderThan, limit));
  }
  deleteMedia(hash: string): Promise<void> {
    return this.write('deleteMedia', () => this.inner.deleteMedia(hash));
  }

  savePushTarget(userId: string, deviceId: number, target: PushTarget): Promise<void> {
    return this.write('savePushTarget', () => this.inner.savePushTarget(userId, deviceId, target));
  }
  pushTarget(userId: string, deviceId: number): Promise<PushTarget | undefined> {
    return this.counted('pushTarget', () => this.inner.pushTarget(userId, deviceId));
  }
  deletePushTarget(userId: string, deviceId: number, only?: PushTarget): Promise<boolean> {
    return this.write('deletePushTarget', () => this.inner.deletePushTarget(userId, deviceId, only));
  }
  pendingCounts(device: DeviceAddress): Promise<{ events: number; messages: number }> {
    return this.counted('pendingCounts', () => this.inner.pendingCounts(device));
  }

  sweep(now: number, keepFor: RetentionTimes): Promise<void> {
    return this.write('sweep', () => this.inner.sweep(now, keepFor));
  }
  backlog(): Promise<{ events: number; oldestTs?: number }> {
    return this.counted('backlog', () => this.inner.backlog());
  }

  // Plain promise chains rather than async functions: these wrap every store call, several per
  // message, and each async layer costs the event loop promises and garbage.
  private write<T>(op: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    return this.counted(op, call).then((result) => {
      this.observer.committed(op, (performance.now() - started) / 1000);
      return result;
    });
  }

  private counted<T>(op: string, call: () => Promise<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = call();
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.catch((err: unknown) => {
      // A CourierError is an answer (a refused group change, say), not a failing store.
      if (!(err instanceof CourierError)) this.observer.failed(op);
      throw err;
    });
  }
}

/** Messages the receipts name: a sender's receipt counts once, however many devices it reached. */
function receiptCount(appended: Appended[], status: 'delivered' | 'read'): number {
  const senders = new Set<string>();
  let count = 0;
  for (const { userId, event } of appended) {
    if (event.type !== 'receipt' || event.status !== status || senders.has(userId)) continue;
    senders.add(userId);
    count += event.serverIds.length;
  }
  return count;
}
