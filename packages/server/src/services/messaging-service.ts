import { randomUUID } from 'node:crypto';
import type { DurableEvent, MediaRef } from '../domain/events.js';
import { CourierError } from '../domain/errors.js';
import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';
import { isMediaType } from './media-type.js';
import { notifyAppended } from './notifier.js';

export interface OutgoingMessage {
  id: string;
  to: string;
  body?: string;
  media?: MediaRef;
}

export interface SentAnswer {
  id: string;
  serverId: string;
  ts: number;
}

const MAX_THUMBNAIL_BYTES = 16 * 1024;

/** 1:1 and group messages, their acks and read receipts, and typing. */
export class MessagingService {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {}

  /** Stores the message for every recipient, then answers: the first tick. */
  async send(from: string, message: OutgoingMessage): Promise<SentAnswer> {
    if (message.body === undefined && message.media === undefined) {
      throw new CourierError('invalid_frame', 'A message needs a body, a media object, or both.');
    }
    const { recipients, group } = await this.recipientsOf(from, message.to);
    if (message.media !== undefined) await this.checkMedia(message.media);
    const result = await this.store.sendMessage(
      {
        serverId: randomUUID(),
        id: message.id,
        from,
        to: message.to,
        ts: this.now(),
        ...(message.body === undefined ? {} : { body: message.body }),
        ...(message.media === undefined ? {} : { media: message.media }),
        ...(group === undefined ? {} : { group }),
      },
      recipients,
    );
    if (!result.duplicate) await notifyAppended(this.bus, result.appended);
    return { id: message.id, serverId: result.serverId, ts: result.ts };
  }

  /** Unacked events of the device's inbox after `afterSeq`, oldest first. */
  pending(userId: string, afterSeq: number, limit: number): Promise<DurableEvent[]> {
    return this.store.readInbox(userId, afterSeq, limit);
  }

  lastSeq(userId: string): Promise<number> {
    return this.store.lastSeq(userId);
  }

  /** Deletes what the device acked and tells the senders: the second tick. */
  async ack(userId: string, upTo: number): Promise<void> {
    const receipts = await this.store.ackUpTo(userId, upTo, this.now());
    await notifyAppended(this.bus, receipts);
  }

  /** Blue ticks: a `read` receipt to each sender. */
  async read(userId: string, serverIds: string[]): Promise<void> {
    const receipts = await this.store.markRead(userId, serverIds, this.now());
    await notifyAppended(this.bus, receipts);
  }

  /** Passes typing on to the online recipients; nothing is stored. */
  async typing(from: string, to: string, active: boolean): Promise<void> {
    const { recipients } = await this.recipientsOf(from, to);
    const frame = { type: 'typing', from, to, active };
    await Promise.all(recipients.map((userId) => this.bus.signalDevice(userId, { kind: 'frame', frame })));
  }

  private async recipientsOf(from: string, to: string): Promise<{ recipients: string[]; group?: string }> {
    if (to.startsWith('+')) {
      const known = await this.store.existingUsers([to]);
      if (!known.has(to)) throw new CourierError('unknown_user', `No user ${to} is registered.`, 400);
      return { recipients: [to] };
    }
    const group = await this.store.getGroup(to);
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
    const stored = await this.store.getMedia(media.hash);
    if (stored === undefined) {
      throw new CourierError('unknown_media', `No media with hash ${media.hash} was uploaded.`, 404);
    }
    if (stored.size !== media.size) {
      throw new CourierError('invalid_media', `The media's size is ${stored.size} bytes, not ${media.size}.`);
    }
  }
}
