import { LRUCache } from 'lru-cache';
import type { DeviceAddress } from '../domain/device.js';
import type { Appended, DurableEvent, MediaRef, MessageEvent } from '../domain/events.js';
import { CourierError } from '../domain/errors.js';
import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';
import { isMediaType } from './media-type.js';
import { notifyAppended } from './notifier.js';
import { newServerId } from '../domain/server-id.js';

export interface OutgoingMessage {
  id: string;
  to: string;
  body?: string;
  media?: MediaRef;
  replyTo?: string;
  expiresIn?: number;
}

export interface CheckedMessage {
  message: Omit<MessageEvent, 'seq' | 'type'>;
  recipients: string[];
  /** The sending device: its user's other devices get a copy, it does not. */
  fromDevice: number;
}

export interface SentAnswer {
  id: string;
  serverId: string;
  ts: number;
}

const MAX_THUMBNAIL_BYTES = 16 * 1024;

/** 1:1 and group messages, their acks and read receipts, and typing. */
export class MessagingService {
  /**
   * Users found registered, so that a send to them needs no second look-up. An account deleted
   * since is still caught: the store refuses to append to an inbox without an account.
   */
  private readonly knownUsers: LRUCache<string, true>;

  constructor(
    private readonly messages: Store,
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
    knownUsersLimit = 100_000,
    /** Told when a signal could not be sent (the bus is down): the events are stored, only latency is lost. */
    private readonly onLostSignal: (err: unknown) => void = () => {},
  ) {
    this.knownUsers = new LRUCache({ max: knownUsersLimit });
  }

  /**
   * Checks a send: its recipients, its media. Resolves with the message ready to store, or throws
   * the CourierError the client gets.
   */
  async check(sender: DeviceAddress, message: OutgoingMessage): Promise<CheckedMessage> {
    if (message.body === undefined && message.media === undefined) {
      throw new CourierError('invalid_frame', 'A message needs a body, a media object, or both.');
    }
    if (message.body !== undefined && message.body.trim() === '') {
      throw new CourierError('invalid_frame', 'A body must contain some text; leave "body" out to send media alone.');
    }
    const from = sender.userId;
    const { recipients, group } = await this.audience(from, message.to);
    if (message.media !== undefined) await this.checkMedia(message.media);
    // Optional fields are set only when present (stored and sent without undefined keys), by
    // assignment rather than spreads: this runs for every message.
    const stored: CheckedMessage['message'] = { serverId: newServerId(), id: message.id, from, to: message.to, ts: this.now() };
    if (message.body !== undefined) stored.body = message.body;
    if (message.media !== undefined) stored.media = message.media;
    if (group !== undefined) stored.group = group;
    if (message.replyTo !== undefined) stored.replyTo = message.replyTo;
    if (message.expiresIn !== undefined) stored.expiresIn = message.expiresIn;
    return { recipients, fromDevice: sender.deviceId, message: stored };
  }

  /**
   * Stores a checked message for every device of every recipient and the sender's other devices,
   * then answers: the first tick. The store keeps the order of these calls, so a device's messages
   * get seqs in the order it calls this. The answer does not wait for the signal to the
   * recipients: the message is durable, and the signal only saves the recipient's node a read.
   */
  async store(checked: CheckedMessage): Promise<SentAnswer> {
    const result = await this.messages.sendMessage(checked.message, checked.recipients, checked.fromDevice);
    if (!result.duplicate) this.announce(result.appended);
    return { id: checked.message.id, serverId: result.serverId, ts: result.ts };
  }

  /**
   * Signals the devices of events just stored, without waiting: the answer to the sender need not
   * wait for the bus, and a lost signal costs latency only (the events are stored).
   */
  announce(appended: Appended[]): void {
    notifyAppended(this.bus, appended).catch(this.onLostSignal);
  }

  /** Unacked events of the device's inbox after `afterSeq`, oldest first. */
  pending(device: DeviceAddress, afterSeq: number, limit: number): Promise<DurableEvent[]> {
    return this.messages.readInbox(device, afterSeq, limit);
  }

  lastSeq(device: DeviceAddress): Promise<number> {
    return this.messages.lastSeq(device);
  }

  /** Deletes what the device acked and tells the senders (once per user): the second tick. */
  async ack(device: DeviceAddress, upTo: number): Promise<void> {
    const receipts = await this.messages.ackUpTo(device, upTo, this.now());
    await notifyAppended(this.bus, receipts);
  }

  /** Blue ticks: a `read` receipt to each sender, and the news to the reader's other devices. */
  async read(device: DeviceAddress, serverIds: string[]): Promise<void> {
    const receipts = await this.messages.markRead(device, serverIds, this.now());
    await notifyAppended(this.bus, receipts);
  }

  /**
   * Passes typing on to every online device of the recipients; nothing is stored. Between users
   * who block each other (either way) it goes nowhere, and the sender is not told; in groups it
   * is not filtered.
   */
  async typing(from: string, to: string, active: boolean): Promise<void> {
    const { recipients, group } = await this.audience(from, to);
    if (group === undefined && (await this.messages.blockedEitherWay(from, to))) return;
    const frame = { type: 'typing', from, to, active };
    const devices = await this.messages.devicesOf(recipients);
    await Promise.all(devices.map(({ userId, deviceId }) => this.bus.signalDevice({ userId, deviceId }, { kind: 'frame', frame })));
  }

  /** True for a message whose expiry has passed: it must not reach a device any more. */
  hasExpired(event: DurableEvent): boolean {
    return event.type === 'message' && event.expiresIn !== undefined && this.now() >= event.ts + event.expiresIn * 1000;
  }

  /**
   * Who a message from `from` to `to` reaches: the user, or the group's other members. Throws
   * `unknown_user` or `not_member`.
   */
  async audience(from: string, to: string): Promise<{ recipients: string[]; group?: string }> {
    if (to.startsWith('+')) {
      if (this.knownUsers.get(to) === undefined) {
        const known = await this.messages.existingUsers([to]);
        if (!known.has(to)) throw new CourierError('unknown_user', `No user ${to} is registered.`, 400);
        this.knownUsers.set(to, true);
      }
      return { recipients: [to] };
    }
    const group = await this.messages.getGroup(to);
    if (group === undefined || !group.members.includes(from)) {
      throw new CourierError('not_member', `You are not a member of group ${to}.`, 403);
    }
    return { recipients: group.members.filter((member) => member !== from), group: group.groupId };
  }

  private async checkMedia(media: MediaRef): Promise<void> {
    if (!isMediaType(media.mime)) {
      throw new CourierError('invalid_media', `"${media.mime}" is not a media type (type/subtype).`);
    }
    if (media.thumbnail !== undefined) {
      const bytes = Buffer.from(media.thumbnail, 'base64');
      if (bytes.length > MAX_THUMBNAIL_BYTES || (bytes.length === 0 && media.thumbnail.length > 0)) {
        throw new CourierError('invalid_media', 'The thumbnail must be base64 of at most 16 KiB.');
      }
    }
    const stored = await this.messages.getMedia(media.hash);
    if (stored === undefined) {
      throw new CourierError('unknown_media', `No media with hash ${media.hash} was uploaded.`, 404);
    }
    if (stored.size !== media.size) {
      throw new CourierError('invalid_media', `The media's size is ${stored.size} bytes, not ${media.size}.`);
    }
  }
}
