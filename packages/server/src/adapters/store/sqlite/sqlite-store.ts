import Database from 'better-sqlite3';
import { PRIMARY_DEVICE_ID, PRIMARY_DEVICE_NAME, type DeviceAddress, type DeviceRecord } from '../../../domain/device.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewActionEvent } from '../../../domain/events.js';
import { CourierError } from '../../../domain/errors.js';
import type { Group } from '../../../domain/group.js';
import type { MessageFacts } from '../../../domain/message-actions.js';
import type { PushTarget } from '../../../domain/push-target.js';
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
} from '../../../ports/store.js';
import { GroupCommit } from './sqlite-group-commit.js';
import { CoalescedJobs } from './sqlite-coalesced-jobs.js';
import { SqliteInbox, storedEvent, withEvents, type AckRequest, type PlacedSend } from './sqlite-inbox.js';
import { deleteAccountNow, isVisibility, preparePrivacyStatements, type PrivacyStatements } from './sqlite-privacy.js';
import { SqliteMessageActions } from './sqlite-message-actions.js';
import { SqlitePush } from './sqlite-push.js';
import { migrate } from './sqlite-schema.js';
import { DeviceLists } from './sqlite-device-lists.js';
import { SeqCounters } from './sqlite-seq-counters.js';
import { prepareStatements, type GroupRow, type SqliteStatements } from './sqlite-statements.js';

export interface SqliteStoreOptions {
  /** The database file; its directory must exist. */
  file: string;
  /**
   * 'full' (default) fsyncs the WAL at every commit: nothing committed is lost, even on power loss.
   * 'normal' survives a killed process but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another connection's lock before failing. */
  busyTimeoutMs?: number;
  /** Most writes committed in one transaction. */
  maxBatch?: number;
  /**
   * Opens the file for reading only, beside the connection that writes it (the node's event-loop
   * side, see SqliteWorkerStore): init prepares the statements and migrates nothing; writes fail.
   */
  readOnly?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The reads the node runs on its event loop, on a read-only connection of its own, instead of
 * sending them to the worker thread: short indexed lookups, so a backlog drains without a
 * hand-over between threads per page. Any method not named here runs on the worker.
 */
export const EVENT_LOOP_READS: ReadonlySet<string> = new Set([
  'readInbox',
  'lastSeq',
  'getGroup',
  'userIdByTokenHash',
  'existingUsers',
  'getMedia',
]);

/**
 * The embedded store: one SQLite file in WAL mode, for a single node. Writes go through a
 * group commit (see GroupCommit); reads run at once on the same connection. The node runs it on
 * a worker thread (see SqliteWorkerStore). Only one SqliteStore may write a file at a time:
 * inbox seqs are counted in memory (see SeqCounters).
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #writes: GroupCommit;
  #statements?: SqliteStatements;
  #privacy?: PrivacyStatements;
  #inbox?: SqliteInbox;
  #seqs?: SeqCounters;
  #devices?: DeviceLists;
  #actions?: SqliteMessageActions;
  #push?: SqlitePush;
  /** The acks of a batch go in together (see CoalescedJobs). */
  #acks?: CoalescedJobs<AckRequest, Appended[]>;
  #closing?: Promise<void>;
  readonly #readOnly: boolean;

  constructor(options: SqliteStoreOptions) {
    this.#readOnly = options.readOnly === true;
    this.#db = new Database(options.file, { readonly: this.#readOnly });
    const mode = this.#db.pragma(this.#readOnly ? 'journal_mode' : 'journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      this.#db.close();
      throw new Error(`SQLite refused WAL mode for ${options.file} (got ${String(mode)})`);
    }
    this.#db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    this.#db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    this.#writes = new GroupCommit(this.#db, {
      ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }),
      beforeCommit: () => this.#seqs?.save(),
      afterRollback: () => {
        this.#seqs?.forget();
        this.#devices?.forget();
      },
    });
  }

  async init(): Promise<void> {
    if (this.#statements) return;
    if (!this.#readOnly) migrate(this.#db);
    this.#statements = prepareStatements(this.#db);
    this.#privacy = preparePrivacyStatements(this.#db);
    this.#seqs = new SeqCounters(this.#statements);
    this.#devices = new DeviceLists(this.#statements);
    this.#inbox = new SqliteInbox(this.#statements, this.#seqs, this.#devices);
    const inbox = this.#inbox;
    this.#acks = new CoalescedJobs(
      this.#writes,
      (acks) => inbox.ackAll(acks),
      ({ device, upTo, now }) => inbox.ackUpTo(device, upTo, now),
    );
    this.#actions = new SqliteMessageActions(this.#statements, this.#inbox);
    this.#push = new SqlitePush(this.#db);
  }

  close(): Promise<void> {
    this.#closing ??= this.#writes.close().then(() => {
      this.#db.close();
    });
    return this.#closing;
  }

  async ping(): Promise<void> {
    this.#q.ping.get();
  }

  // Registration ------------------------------------------------------------

  saveCode(code: PendingCode): Promise<void> {
    return this.#write((q) => {
      q.saveCode.run(code.phone, code.codeHash, code.expiresAt);
    });
  }

  async getCode(phone: string): Promise<PendingCode | undefined> {
    return this.#q.getCode.get(phone);
  }

  takeCodeTry(phone: string, now: number, maxTries: number): Promise<{ codeHash: string; tries: number } | undefined> {
    return this.#write((q) => q.takeCodeTry.get(phone, now, maxTries));
  }

  consumeCode(phone: string, codeHash: string): Promise<boolean> {
    return this.#write((q) => q.consumeCode.run(phone, codeHash).changes === 1);
  }

  serverSecret(name: string, candidate: string): Promise<string> {
    return this.#write((q) => {
      q.keepSecret.run(name, candidate);
      return q.secret.get(name) as string;
    });
  }

  registerPrimary(userId: string, tokenHash: string, now: number): Promise<{ revoked: RevokedDevice[] }> {
    return this.#write((q) => {
      this.#devices!.changed(userId);
      const previous = q.primaryToken.get(userId);
      if (previous === undefined) {
        q.insertAccount.run(userId, now, now);
        q.insertDevice.run(userId, PRIMARY_DEVICE_ID, PRIMARY_DEVICE_NAME, tokenHash, now, now);
        return { revoked: [] };
      }
      // An unchanged primary token did not die: naming it would close the sockets it just opened.
      const primary: RevokedDevice[] = previous === tokenHash ? [] : [{ deviceId: PRIMARY_DEVICE_ID, tokenHash: previous }];
      const revoked: RevokedDevice[] = [...primary, ...q.linkedDevices.all(userId)];
      q.deleteLinkedInboxes.run(userId);
      q.deleteLinkedDevices.run(userId);
      // The old phone must not be woken for the new one's messages.
      q.deletePushTargets.run(userId);
      q.replacePrimaryToken.run(tokenHash, now, userId);
      q.setLastSeen.run(now, userId);
      return { revoked };
    });
  }

  async deviceByTokenHash(tokenHash: string): Promise<DeviceAddress | undefined> {
    return this.#q.deviceByToken.get(tokenHash);
  }

  async existingUsers(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    return new Set(this.#q.existingUsers.all(JSON.stringify(userIds)));
  }

  setLastSeen(userId: string, ts: number, deviceId?: number): Promise<void> {
    return this.#write((q) => {
      q.setLastSeen.run(ts, userId);
      if (deviceId !== undefined) q.setDeviceLastSeen.run(ts, userId, deviceId);
    });
  }

  async lastSeen(userIds: string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    return new Map(this.#q.lastSeen.all(JSON.stringify(userIds)).map((row) => [row.userId, row.lastSeen]));
  }

  // Devices -------------------------------------------------------------------

  async devicesOf(userIds: string[]): Promise<DeviceRecord[]> {
    if (userIds.length === 0) return [];
    return this.#q.devicesOf.all(JSON.stringify(userIds));
  }

  createLink(link: PendingLink): Promise<void> {
    return this.#write((q) => {
      q.insertLink.run(link.codeHash, link.pollHash, link.tokenHash, link.name, link.expiresAt);
    });
  }

  async getLinkByPollHash(pollHash: string): Promise<PendingLink | undefined> {
    const row = this.#q.linkByPoll.get(pollHash);
    if (row === undefined) return undefined;
    const { userId, deviceId, ...link } = row;
    return userId === null || deviceId === null ? link : { ...link, device: { userId, deviceId } };
  }

  approveLink(codeHash: string, userId: string, now: number, maxLinked: number): Promise<LinkApproval> {
    // Writes run one after another inside the flush: the count and the insert see the same devices.
    return this.#write((q): LinkApproval => {
      const link = q.pendingLink.get(codeHash, now);
      if (link === undefined) return { outcome: 'unknown_code' };
      if ((q.countLinked.get(userId) ?? 0) >= maxLinked) return { outcome: 'too_many_devices' };
      const deviceId = q.nextDeviceId.get(userId);
      if (deviceId === undefined) throw new CourierError('unknown_user', `${userId} has no account`, 404);
      q.approveLink.run(userId, deviceId, codeHash);
      this.#devices!.changed(userId);
      q.insertDevice.run(userId, deviceId, link.name, link.tokenHash, now, now);
      return { outcome: 'approved', deviceId, name: link.name };
    });
  }

  collectLink(pollHash: string): Promise<DeviceAddress | undefined> {
    return this.#write((q) => {
      const taken = q.collectLink.get(pollHash);
      // A device removed (or revoked by a new registration) before it collected its token is gone.
      return taken !== undefined && q.deviceToken.get(taken.userId, taken.deviceId) !== undefined ? taken : undefined;
    });
  }

  removeDevice(device: DeviceAddress): Promise<{ tokenHash: string } | undefined> {
    return this.#write((q) => {
      const tokenHash = q.deviceToken.get(device.userId, device.deviceId);
      if (tokenHash === undefined) return undefined;
      this.#devices!.changed(device.userId);
      q.deleteInbox.run(device.userId, device.deviceId);
      q.deleteDevice.run(device.userId, device.deviceId);
      q.deletePushTarget.run(device.userId, device.deviceId);
      return { tokenHash };
    });
  }

  // Messaging ---------------------------------------------------------------

  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): Promise<SendResult> {
    return this.sendMessagePlaced(message, recipients, fromDevice).then((placed) => withEvents({ type: 'message', ...message }, placed));
  }

  /** sendMessage answering only where the message went (see PlacedSend): what the worker thread answers. */
  sendMessagePlaced(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): Promise<PlacedSend> {
    return this.#write((_, inbox) => inbox.sendMessage(message, recipients, fromDevice));
  }

  appendEvents(entries: InboxEntry[]): Promise<Appended[]> {
    return this.#write((_, inbox) => inbox.append(entries));
  }

  async readInbox(device: DeviceAddress, afterSeq: number, limit: number): Promise<DurableEvent[]> {
    if (limit <= 0) return [];
    return this.#q.readInbox
      .all(device.userId, device.deviceId, afterSeq, limit)
      .map((row) => storedEvent(row.seq, row.payload));
  }

  async lastSeq(device: DeviceAddress): Promise<number> {
    return this.#q.lastSeq.get(device.userId, device.deviceId) ?? 0;
  }

  ackUpTo(device: DeviceAddress, upTo: number, now: number): Promise<Appended[]> {
    if (!this.#acks) return Promise.reject(new Error('SqliteStore used before init()'));
    return this.#acks.submit({ device, upTo, now });
  }

  markRead(reader: DeviceAddress, serverIds: string[], now: number): Promise<Appended[]> {
    return this.#write((_, inbox) => inbox.markRead(reader, serverIds, now));
  }

  // Message actions -----------------------------------------------------------

  async earlierAnswer(sender: string, clientId: string): Promise<{ serverId: string; ts: number } | undefined> {
    return this.#q.firstSend.get(sender, clientId);
  }

  async messageFacts(serverId: string): Promise<MessageFacts | undefined> {
    return this.#messageActions.facts(serverId);
  }

  storeAction(action: NewActionEvent, recipients: string[], fromDevice: number): Promise<SendResult> {
    const actions = this.#messageActions;
    return this.#writes.run(() => actions.store(action, recipients, fromDevice));
  }

  expireMessages(now: number, limit: number): Promise<number> {
    if (limit <= 0) return Promise.resolve(0);
    const actions = this.#messageActions;
    return this.#writes.run(() => actions.expire(now, limit));
  }

  // Groups ------------------------------------------------------------------

  createGroup(group: Group, events: InboxEntry[]): Promise<Appended[]> {
    return this.#write((q, inbox) => {
      if (q.getGroup.get(group.groupId)) {
        throw new CourierError('group_exists', `group ${group.groupId} already exists`, 409);
      }
      q.insertGroup.run(
        group.groupId,
        group.name,
        JSON.stringify(group.members),
        JSON.stringify(group.admins),
        group.createdAt,
      );
      return inbox.append(events);
    });
  }

  async getGroup(groupId: string): Promise<Group | undefined> {
    const row = this.#q.getGroup.get(groupId);
    return row && toGroup(row);
  }

  async groupsOf(userId: string): Promise<Group[]> {
    return this.#q.groupsOf.all(userId).map(toGroup);
  }

  changeGroup(
    groupId: string,
    change: (group: Group) => { group: Group; events: InboxEntry[] },
  ): Promise<{ group: Group; appended: Appended[] }> {
    // Writes run one after another inside the flush, so nothing interleaves between read and write.
    return this.#write((q, inbox) => {
      const row = q.getGroup.get(groupId);
      if (!row) throw new CourierError('not_found', `no group ${groupId}`, 404);
      const { group, events } = change(toGroup(row));
      return this.#updateGroup(q, inbox, row, group, events);
    });
  }

  /**
   * changeGroup in two steps, for callers that cannot pass a function (the worker thread's
   * proxy): writes `group` and appends `events` only if the group is still `seen`; otherwise
   * changes nothing and answers undefined, and the caller reads again.
   */
  replaceGroup(seen: Group, group: Group, events: InboxEntry[]): Promise<{ group: Group; appended: Appended[] } | undefined> {
    return this.#write((q, inbox) => {
      const row = q.getGroup.get(seen.groupId);
      if (!row) throw new CourierError('not_found', `no group ${seen.groupId}`, 404);
      const current = toGroup(row);
      if (current.name !== seen.name || !sameList(current.members, seen.members) || !sameList(current.admins, seen.admins)) {
        return undefined;
      }
      return this.#updateGroup(q, inbox, row, group, events);
    });
  }

  // Blocking, privacy and account deletion ---------------------------------------

  setBlocked(blocker: string, blocked: string, on: boolean, now: number): Promise<void> {
    return this.#write(() => {
      if (on) this.#p.block.run(blocker, blocked, now);
      else this.#p.unblock.run(blocker, blocked);
    });
  }

  async blockedBy(blocker: string): Promise<string[]> {
    return this.#p.blockedBy.all(blocker);
  }

  async blockedEitherWay(a: string, b: string): Promise<boolean> {
    return this.#p.blockedEitherWay.get(a, b, b, a) !== undefined;
  }

  setPresenceVisibility(userId: string, visibility: PresenceVisibility): Promise<void> {
    if (!isVisibility(visibility)) return Promise.reject(new Error(`unknown presence visibility ${String(visibility)}`));
    return this.#write(() => {
      this.#p.setVisibility.run(visibility, userId);
    });
  }

  async presenceAllowed(pairs: PresencePair[]): Promise<PresencePair[]> {
    if (pairs.length === 0) return [];
    return this.#p.presenceAllowed.all(JSON.stringify(pairs.map((pair) => [pair.user, pair.watcher])));
  }

  deleteAccount(userId: string): Promise<{ revoked: RevokedDevice[] }> {
    return this.#write((q) => {
      this.#seqs!.drop(userId);
      return deleteAccountNow(q, this.#p, userId, toGroup);
    });
  }

  #updateGroup(q: SqliteStatements, inbox: SqliteInbox, row: GroupRow, group: Group, events: InboxEntry[]) {
    q.updateGroup.run(group.name, JSON.stringify(group.members), JSON.stringify(group.admins), row.groupId);
    return { group: { ...group, groupId: row.groupId, createdAt: row.createdAt }, appended: inbox.append(events) };
  }

  // Media -------------------------------------------------------------------

  grantMedia(hash: string, userId: string, uploadedBytes: number, now: number): Promise<void> {
    return this.#write((q) => {
      q.grantMedia.run(hash, userId, uploadedBytes, now);
    });
  }

  async mayFetchMedia(hash: string, userId: string): Promise<boolean> {
    return this.#p.mayFetchMedia.get(hash, userId) !== undefined;
  }

  async uploadedBytesSince(userId: string, since: number): Promise<number> {
    return this.#p.uploadedSince.get(userId, since) ?? 0;
  }

  saveMedia(media: MediaRecord): Promise<void> {
    return this.#write((q) => {
      q.saveMedia.run(media.hash, media.size, media.mime, media.createdAt);
    });
  }

  async getMedia(hash: string): Promise<MediaRecord | undefined> {
    return this.#q.getMedia.get(hash);
  }

  async unreferencedMedia(olderThan: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    return this.#q.unreferencedMedia.all(olderThan, limit);
  }

  deleteMedia(hash: string): Promise<void> {
    return this.#write((q) => {
      q.deleteMedia.run(hash);
    });
  }

  // Push --------------------------------------------------------------------

  savePushTarget(userId: string, deviceId: number, target: PushTarget): Promise<void> {
    return this.#write(() => this.#pushTable.save(userId, deviceId, target));
  }

  async pushTarget(userId: string, deviceId: number): Promise<PushTarget | undefined> {
    return this.#pushTable.get(userId, deviceId);
  }

  deletePushTarget(userId: string, deviceId: number, only?: PushTarget): Promise<boolean> {
    return this.#write(() => this.#pushTable.delete(userId, deviceId, only));
  }

  async pendingCounts(device: DeviceAddress): Promise<{ events: number; messages: number }> {
    return this.#pushTable.pendingCounts(device);
  }


  // Housekeeping and gauges ---------------------------------------------------

  sweep(now: number, keepFor: RetentionTimes): Promise<void> {
    return this.#write((q) => {
      q.sweepCodes.run(now);
      q.sweepIdempotency.run(now - keepFor.idempotencyMs);
      q.sweepReadTracking.run(now - keepFor.readTrackingMs);
      // Access rows of removed blobs, once they no longer count against a daily quota.
      q.sweepMediaAccess.run(now - DAY_MS);
      q.sweepLinks.run(now - keepFor.expiredLinksMs);
      q.sweepFacts.run(now - keepFor.messageFactsMs);
    });
  }

  async backlog(): Promise<{ events: number; oldestTs?: number }> {
    const row = this.#q.backlog.get();
    if (!row || row.oldestTs === null) return { events: 0 };
    return { events: row.events, oldestTs: row.oldestTs };
  }

  get #p(): PrivacyStatements {
    if (!this.#privacy) throw new Error('SqliteStore used before init()');
    return this.#privacy;
  }

  get #q(): SqliteStatements {
    if (!this.#statements) throw new Error('SqliteStore used before init()');
    return this.#statements;
  }

  get #messageActions(): SqliteMessageActions {
    if (!this.#actions) throw new Error('SqliteStore used before init()');
    return this.#actions;
  }

  get #pushTable(): SqlitePush {
    if (!this.#push) throw new Error('SqliteStore used before init()');
    return this.#push;
  }

  #write<T>(work: (q: SqliteStatements, inbox: SqliteInbox) => T): Promise<T> {
    const q = this.#q;
    const inbox = this.#inbox as SqliteInbox;
    return this.#writes.run(() => work(q, inbox));
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function toGroup(row: GroupRow): Group {
  return {
    groupId: row.groupId,
    name: row.name,
    members: JSON.parse(row.members) as string[],
    admins: JSON.parse(row.admins) as string[],
    createdAt: row.createdAt,
  };
}
