import type { DeviceAddress } from '../domain/device.js';
import type { DurableEvent } from '../domain/events.js';
import { CourierError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { DeviceSignal } from '../ports/bus.js';
import type { MessageActionsService } from '../services/message-actions-service.js';
import type { MessagingService, SentAnswer } from '../services/messaging-service.js';
import type { PresenceService } from '../services/presence-service.js';
import type { RegistrationService } from '../services/registration-service.js';
import type { ClientFrame } from './client-frames.js';
import { CloseCodes } from './close-codes.js';
import type { Connection } from './connection.js';
import { claimDevice } from './device-claim.js';
import { EventText } from './event-text.js';
import { InboxPump } from './inbox-pump.js';
import { ReceiptOrder, type ReceiptIo } from './receipt-order.js';
import { SendBuffer } from './send-buffer.js';
import { SendOrder } from './send-order.js';
import type { SessionRegistry } from './session-registry.js';
import { WatchedUsers } from './watched-users.js';

export { CloseCodes } from './close-codes.js';

export interface SessionDeps {
  registration: RegistrationService;
  messaging: MessagingService;
  actions: MessageActionsService;
  presence: PresenceService;
  registry: SessionRegistry;
  logger: Logger;
  settings: {
    authTimeoutMs: number;
    sendBufferBytes: number;
    maxPresenceUsers: number;
    maxFrameBytes: number;
    /** Sends of one connection received and not yet answered; past it a send is refused. */
    maxSendsInFlight: number;
  };
  observer?: SessionObserver;
}

/** Hooks for metrics; the session does not know who listens. */
export interface SessionObserver {
  sent?(latencyMs: number): void;
  pushed?(event: DurableEvent): void;
  authenticated?(session: Session): void;
}

/** Shared by the node's sessions: a group message's members get the same text, seq aside. */
const eventText = new EventText();

/**
 * One socket's conversation with the server, from `auth` to close: Erlang's "one process per
 * user". It owns the device's outbound queue (the inbox, pushed by an InboxPump that stops
 * while the SendBuffer is full) and turns client frames into service calls, keeping their order
 * where it matters (SendOrder for sends and actions, ReceiptOrder for acks and reads).
 */
export class Session implements ReceiptIo {
  /** The device this socket authenticated as; undefined until `auth` succeeded. */
  device: DeviceAddress | undefined;
  /** Whose presence this socket watches, and what it was told of them. */
  readonly watched: WatchedUsers;
  private tokenHash: string | undefined;
  private state: 'authenticating' | 'ready' | 'closed' = 'authenticating';
  private authInFlight: Promise<void> | undefined;
  private readonly buffer: SendBuffer;
  private readonly sends: SendOrder;
  private readonly receipts: ReceiptOrder;
  private readonly pump: InboxPump;
  private readonly authTimer: NodeJS.Timeout;
  private log: Logger;

  constructor(
    readonly connection: Connection,
    private readonly deps: SessionDeps,
  ) {
    this.log = deps.logger.child({ conn: connection.id, addr: connection.remoteAddress });
    this.watched = new WatchedUsers(deps.settings.maxPresenceUsers);
    this.sends = new SendOrder(deps.settings.maxSendsInFlight);
    this.receipts = new ReceiptOrder(this);
    this.pump = new InboxPump({
      read: (afterSeq, limit) => deps.messaging.pending(this.device!, afterSeq, limit),
      push: (event) => {
        // A disappearing message the sweep has not reached yet must still never be shown.
        if (deps.messaging.hasExpired(event)) return;
        this.buffer.send(eventText.of(event));
        deps.observer?.pushed?.(event);
      },
      canPush: () => this.state === 'ready' && connection.isOpen && this.buffer.hasRoom,
      onReadError: (err) => {
        this.log.error({ err }, 'reading the inbox failed; retrying');
        setTimeout(() => this.pump.kick(), 1000).unref();
      },
    });
    this.buffer = new SendBuffer(connection, deps.settings.sendBufferBytes, this.pump);
    this.authTimer = setTimeout(() => this.close(CloseCodes.revoked, 'no auth within the time limit'), deps.settings.authTimeoutMs);
    this.authTimer.unref();
    deps.registry.add(this);
  }

  get userId(): string | undefined {
    return this.device?.userId;
  }

  /** Authenticated and holding its device: frames and signals are served. */
  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** Events waiting for this device: not yet pushed, or pushed and not acked. */
  get queueLength(): number {
    return this.pump.queueLength;
  }

  /** The gateway's entry point for every frame that passed its schema. */
  async handle(frame: ClientFrame): Promise<void> {
    // Frames that arrive while the token is being checked wait for it, in order.
    if (this.authInFlight !== undefined) await this.authInFlight;
    if (this.state === 'closed') return;
    if (this.state === 'authenticating') {
      if (frame.type !== 'auth') return this.close(CloseCodes.revoked, 'the first frame must be auth');
      this.authInFlight = this.authenticate(frame.token).finally(() => (this.authInFlight = undefined));
      return this.authInFlight;
    }
    switch (frame.type) {
      case 'auth':
        return this.sendError('already_authenticated', 'This connection is already authenticated.');
      case 'send': {
        const { messaging } = this.deps;
        return this.submit(frame.id, async () => {
          const checked = await messaging.check(this.device!, frame);
          return () => messaging.store(checked);
        });
      }
      case 'edit':
      case 'delete':
      case 'react': {
        const { actions } = this.deps;
        return this.submit(frame.id, async () => {
          const checked = await actions.check(this.device!, frame);
          return () => actions.store(checked);
        });
      }
      case 'ack':
        return this.ack(frame.upTo);
      case 'read':
        return this.receipts.queue(() => this.deps.messaging.read(this.device!, frame.serverIds));
      case 'typing':
        return this.guard(undefined, () => this.deps.messaging.typing(this.userId!, frame.to, frame.active));
      case 'presence.subscribe':
        return this.subscribePresence(frame.users);
      case 'ping':
        return this.sendFrame({ type: 'pong' });
    }
  }

  /** Bad input that never reached `handle`: answered, the connection stays open (but not before auth). */
  async rejectFrame(error: CourierError, ref: string | undefined): Promise<void> {
    if (this.authInFlight !== undefined) await this.authInFlight;
    if (this.state === 'authenticating') return this.close(CloseCodes.revoked, 'the first frame must be auth');
    this.sendError(error.code, error.message, ref);
  }

  /** A signal the bus addressed to this connection. */
  onSignal(signal: DeviceSignal): void {
    // Also while the auth that claimed the device is still finishing: a newer connection that
    // claimed it meanwhile must not find this one turning ready beside it.
    // The same for a revocation: the token checked out, but the device is gone now.
    if (signal.kind === 'replaced') return this.close(CloseCodes.replaced, 'replaced by a newer connection');
    if (signal.kind === 'revoked') {
      if (signal.tokenHash === this.tokenHash) this.close(CloseCodes.revoked, 'the device was removed or the phone registered again');
      return;
    }
    if (this.state !== 'ready') return;
    switch (signal.kind) {
      case 'events':
        return this.pump.offer(signal.events);
      case 'frame':
        return this.sendFrame(signal.frame);
    }
  }

  sendFrame(frame: object): void {
    this.buffer.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.connection.isOpen) this.connection.close(code, reason);
  }

  /** The socket closed (either side): forget the session and, if it was the device's, go offline. */
  async closed(code: number): Promise<void> {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.authTimer);
    this.deps.registry.remove(this);
    this.log.info({ code }, 'connection closed');
    if (wasReady) {
      await this.guard(undefined, () => this.deps.presence.disconnect(this.device!, this.connection.id));
    }
  }

  private async authenticate(token: string): Promise<void> {
    const identity = await this.deps.registration.authenticate(token);
    if (identity === undefined) return this.close(CloseCodes.revoked, 'unknown or revoked token');
    // A socket that closed while its token was checked (the client gave up, the node is draining)
    // must not take the device: that would close the device's newer connection, on this node or
    // another, with 4002.
    if (this.state !== 'authenticating' || !this.connection.isOpen) return;
    clearTimeout(this.authTimer);
    const device: DeviceAddress = { userId: identity.userId, deviceId: identity.deviceId };
    this.device = device;
    this.tokenHash = identity.tokenHash;
    this.log = this.log.child({ user: device.userId, device: device.deviceId });
    const latestSeq = await this.deps.messaging.lastSeq(device);
    if (this.state !== 'authenticating' || !this.connection.isOpen) return;
    const claim = await claimDevice(this.deps.presence, device, this.connection);
    if (claim === 'newer-holds') return this.close(CloseCodes.replaced, 'replaced by a newer connection');
    if (claim === 'closed-meanwhile') return;
    // A removal (or a new registration of the phone) between the token check and the claim sent
    // its `revoked` to whoever held the device then, not to this connection: look again now that
    // the directory names this one, so any later revocation reaches it.
    const still = await this.deps.registration.authenticate(token);
    if (still?.tokenHash !== identity.tokenHash || !this.connection.isOpen || this.state !== 'authenticating') {
      await this.deps.presence.disconnect(device, this.connection.id);
      return this.close(CloseCodes.revoked, 'unknown or revoked token');
    }
    this.state = 'ready';
    // maxFrameBytes lets a client refuse a too-big send itself, instead of losing its socket to 1009.
    this.sendFrame({
      type: 'ready',
      userId: device.userId,
      deviceId: device.deviceId,
      serverTime: Date.now(),
      maxFrameBytes: this.deps.settings.maxFrameBytes,
    });
    this.log.info('authenticated');
    this.deps.observer?.authenticated?.(this);
    this.pump.start(latestSeq);
  }

  /** A send or an action, in frame order; refused at once (with `ref`) past the in-flight limit. */
  private submit(id: string, check: () => Promise<() => Promise<SentAnswer>>): Promise<void> {
    if (!this.sends.tryTake()) {
      this.sendError('too_many_in_flight', `At most ${this.sends.max} sends may wait for their answer; send this one again after the next sent.`, id);
      return Promise.resolve();
    }
    const started = performance.now();
    return this.sends.run(check).then(
      (sent) => {
        this.sends.answered();
        this.sendFrame({ type: 'sent', ...sent });
        this.deps.observer?.sent?.(performance.now() - started);
      },
      (err: unknown) => {
        this.sends.answered();
        this.answerFailure(err, id);
      },
    );
  }

  /** ReceiptIo: the store write of an ack. */
  writeAck(upTo: number): Promise<void> {
    return this.deps.messaging.ack(this.device!, upTo);
  }

  /** ReceiptIo: a receipt request, its failure answered to the client. */
  runRequest(work: () => Promise<void>): Promise<void> {
    return this.guard(undefined, work);
  }

  private ack(upTo: number): Promise<void> {
    const effective = this.pump.acceptAck(upTo);
    if (effective === undefined) return Promise.resolve();
    return this.receipts.ack(effective);
  }

  private async subscribePresence(users: string[]): Promise<void> {
    const wanted = this.watched.add(users);
    if (wanted === undefined) {
      return this.sendError('too_many_users', `At most ${this.watched.max} users can be watched.`);
    }
    this.deps.registry.watch(this, wanted);
    await this.guard(undefined, async () => {
      const { frames, unknown } = await this.deps.presence.snapshot(this.userId!, wanted);
      for (const frame of frames) {
        // The snapshot is always sent: the client asked for it.
        this.sendFrame(frame);
        this.watched.tell(frame.user, frame.online);
        this.deps.registry.noteTold(frame.user, frame.online);
      }
      if (unknown.length > 0) {
        this.sendError('unknown_user', `No user ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''} is registered; no presence for them.`);
      }
    });
  }

  /** Runs a client request; a CourierError becomes an `error` frame, anything else is logged too. */
  private async guard(ref: string | undefined, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.answerFailure(err, ref);
    }
  }

  /** A CourierError becomes an `error` frame (with `ref`); anything else is logged and answered `internal_error`. */
  private answerFailure(err: unknown, ref: string | undefined): void {
    if (err instanceof CourierError) return this.sendError(err.code, err.message, ref);
    this.log.error({ err, ref }, 'request failed');
    this.sendError('internal_error', 'The server could not do this now; try again.', ref);
  }

  private sendError(code: string, message: string, ref?: string): void {
    this.sendFrame(ref === undefined ? { type: 'error', code, message } : { type: 'error', ref, code, message });
  }
}
