import type { DeviceAddress } from '../domain/device.js';
import { CourierError } from '../domain/errors.js';
import type { NewActionEvent } from '../domain/events.js';
import { authoriseAction, isOneGrapheme, type ActionKind, type ActionWindows } from '../domain/message-actions.js';
import type { Store } from '../ports/store.js';
import type { ActionFrame } from '../session/client-frames.js';
import type { MessagingService, SentAnswer } from './messaging-service.js';
import { newServerId } from '../domain/server-id.js';

/** An action ready to store, or the answer already given to its client id. */
export type CheckedAction = { repeat: SentAnswer } | { action: NewActionEvent; recipients: string[]; fromDevice: number };

/** Messages that disappear: how many expired ones one sweep step handles. */
const EXPIRY_BATCH = 500;

/**
 * Edits, deletes for everyone and reactions: each is a new durable event that points at an
 * earlier message (`target`), sent to the same devices a message to the same `to` would reach.
 * Also the sweep that removes undelivered copies of disappearing messages.
 */
export class MessageActionsService {
  constructor(
    private readonly messages: Store,
    private readonly messaging: MessagingService,
    private readonly windows: ActionWindows,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Checks an action: a repeat of a client id already used answers as the first time did (even
   * if the target has since been deleted or grown too old); otherwise the target, the actor's
   * rights and the window. Throws `not_allowed` or `invalid_frame`.
   */
  async check(actor: DeviceAddress, frame: ActionFrame): Promise<CheckedAction> {
    const from = actor.userId;
    const earlier = await this.messages.earlierAnswer(from, frame.id);
    if (earlier !== undefined) return { repeat: { id: frame.id, ...earlier } };
    if (frame.type === 'edit' && frame.body.trim() === '') {
      throw new CourierError('invalid_frame', 'An edit needs some text; to remove a message, delete it.');
    }
    if (frame.type === 'react' && !isOneGrapheme(frame.emoji)) {
      throw new CourierError('invalid_frame', 'A reaction is one emoji (one grapheme), or "" to take it back.');
    }
    const kind: ActionKind = frame.type;
    const ts = this.now();
    authoriseAction(kind, from, frame.to, await this.messages.messageFacts(frame.target), ts, this.windows);
    const { recipients, group } = await this.audienceOf(from, frame.to);
    const common = { serverId: newServerId(), id: frame.id, from, to: frame.to, ts, target: frame.target, ...(group === undefined ? {} : { group }) };
    const action: NewActionEvent =
      frame.type === 'edit'
        ? { type: 'edit', ...common, body: frame.body }
        : frame.type === 'delete'
          ? { type: 'delete', ...common }
          : { type: 'reaction', ...common, emoji: frame.emoji };
    return { action, recipients, fromDevice: actor.deviceId };
  }

  /**
   * Stores a checked action for every device of every recipient and the actor's other devices,
   * then answers (like `sent` for a message).
   */
  async store(checked: CheckedAction): Promise<SentAnswer> {
    if ('repeat' in checked) return checked.repeat;
    const result = await this.messages.storeAction(checked.action, checked.recipients, checked.fromDevice);
    if (!result.duplicate) this.messaging.announce(result.appended);
    return { id: checked.action.id, serverId: result.serverId, ts: result.ts };
  }

  /** Deletes the undelivered copies of every message whose expiry passed; answers how many messages. */
  async expire(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.messages.expireMessages(this.now(), EXPIRY_BATCH);
      total += handled;
      if (handled < EXPIRY_BATCH) return total;
    }
  }

  /** A group the actor is no longer in refuses the action as `not_allowed`, like any other right it lacks. */
  private async audienceOf(from: string, to: string): Promise<{ recipients: string[]; group?: string }> {
    try {
      return await this.messaging.audience(from, to);
    } catch (err) {
      if (err instanceof CourierError && err.code === 'not_member') {
        throw new CourierError('not_allowed', `You are not a member of group ${to} any more.`, 403);
      }
      throw err;
    }
  }
}
