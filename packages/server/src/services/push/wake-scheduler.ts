import { deviceKey, type DeviceAddress } from '../../domain/device.js';
import type { GatewayPushTarget, PushTarget, WebPushTarget } from '../../domain/push-target.js';
import type { Logger } from '../../observability/logger.js';
import type { Bus } from '../../ports/bus.js';
import type { PushSender, Wake } from '../../ports/push-sender.js';
import type { RateLimiter } from '../../ports/rate-limiter.js';
import type { Store } from '../../ports/store.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import type { PushObserver } from './push-observer.js';
import type { PushHosts } from './push-hosts.js';
import { retryDelay } from './retry-delay.js';

export interface PushSenders {
  webpush: PushSender<WebPushTarget>;
  gateway: PushSender<GatewayPushTarget>;
}

export interface WakeSchedulerDeps {
  store: Store;
  /** The deployment's directory of sockets: a device it names anywhere is online. */
  bus: Bus;
  /** Shared by the cluster's nodes (Redis), so a device's push slot is one per deployment. */
  limiter: RateLimiter;
  senders: PushSenders;
  hosts: PushHosts;
  observer: PushObserver;
  logger: Logger;
}

export interface WakeSettings {
  /** At most one push per device per this long (`--push-interval`). */
  intervalMs: number;
  /** Tries of one wake, the first included, when the push service answers 429 or 5xx. */
  maxTries: number;
}

/** Requests to push services in flight at once: a message to a big group of sleeping phones is a burst. */
const MAX_SENDS_IN_FLIGHT = 64;
/** Events stored this close before a push took the slot may have missed its count: they wait for the next. */
const SLOT_TIME_MARGIN_MS = 100;

/** Per device with events not yet covered by a push. */
interface Pending {
  /** When the oldest event not yet covered by a push was stored; undefined: all covered. */
  since: number | undefined;
  /** Set while waiting for the device's push slot to free up. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Decides, for each device that got durable events, whether and when to wake it, and sends the
 * wake. Called by the node that stored the events, and only by it, so each event is decided once
 * in the deployment.
 *
 * - Never while online: the directory is asked right before each try.
 * - Coalesced: a device gets at most one push per interval in the whole deployment. The slot is
 *   a 1-per-interval rate limit shared through the limiter. Events that find the slot taken wait
 *   for it to free up, unless a push that started after they were stored (on any node) already
 *   counted them; so a burst gives one push at once and at most one more at the interval's end.
 * - The push says how many messages wait, read after the slot is taken, so it counts every
 *   event stored before it.
 * - 404/410 remove the target (only if it is still the one that was refused); 429 and 5xx are
 *   retried with backoff, honouring Retry-After; other refusals are logged and counted.
 * A failure here never reaches the sender of a message: pushes are hints, the inbox is the truth.
 */
export class WakeScheduler {
  private readonly pending = new Map<string, Pending>();
  private readonly sends = new ConcurrencyLimit(MAX_SENDS_IN_FLIGHT);
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private stopped = false;

  constructor(
    private readonly deps: WakeSchedulerDeps,
    private readonly settings: WakeSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Durable events were stored for the device; returns at once (a `sent` never waits for a push). */
  eventsStored(device: DeviceAddress): void {
    if (this.stopped) return;
    const key = deviceKey(device);
    const pending = this.pending.get(key);
    if (pending !== undefined) {
      pending.since ??= this.now();
      return;
    }
    const fresh: Pending = { since: this.now(), timer: undefined };
    this.pending.set(key, fresh);
    void this.attempt(device, fresh);
  }

  /** Stops deciding: waiting wakes are dropped, retries end at their next step. */
  stop(): void {
    this.stopped = true;
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
    for (const sleep of this.sleeps) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
  }

  private async attempt(device: DeviceAddress, pending: Pending): Promise<void> {
    try {
      await this.tryWake(device, pending);
    } catch (err) {
      // The store or the bus failed: this wake is lost, the events are not.
      pending.since = undefined;
      this.deps.logger.error({ err, user: device.userId, device: device.deviceId }, 'push: deciding a wake failed');
    } finally {
      if (pending.timer === undefined) {
        if (pending.since === undefined || this.stopped) this.pending.delete(deviceKey(device));
        // Events came while this try ran: they find the slot taken and wait for it.
        else void this.attempt(device, pending);
      }
    }
  }

  private async tryWake(device: DeviceAddress, pending: Pending): Promise<void> {
    const { store, limiter } = this.deps;
    if (await this.isOnline(device)) {
      pending.since = undefined;
      return;
    }
    const target = await store.pushTarget(device.userId, device.deviceId);
    if (target === undefined) {
      pending.since = undefined;
      return;
    }
    const slot = await limiter.hit(`push:${deviceKey(device)}`, 1, this.settings.intervalMs);
    if (!slot.allowed) {
      // When the slot was taken, by this node or another; estimated late by up to a round trip.
      const slotTakenAt = this.now() - (this.settings.intervalMs - slot.retryAfterMs);
      if (pending.since !== undefined && pending.since >= slotTakenAt - SLOT_TIME_MARGIN_MS) {
        pending.timer = setTimeout(() => {
          pending.timer = undefined;
          if (!this.stopped) void this.attempt(device, pending);
        }, slot.retryAfterMs);
      } else {
        pending.since = undefined; // the push that took the slot counted these events
      }
      return;
    }
    pending.since = undefined;
    await this.deliver(device, target);
  }

  private async deliver(device: DeviceAddress, target: PushTarget): Promise<void> {
    const { store, observer, logger } = this.deps;
    const log = { user: device.userId, device: device.deviceId, target: target.kind };
    const decidedAt = performance.now();
    if (!this.deps.hosts.allows(new URL(target.kind === 'webpush' ? target.endpoint : target.url))) {
      // Saved while the host was allowed; --push-hosts has changed since.
      observer.pushFailed(target.kind, 'refused');
      logger.warn(log, 'push: the target host is no longer in --push-hosts; not sent');
      return;
    }
    for (let tries = 1; ; tries++) {
      const counts = await store.pendingCounts(device);
      if (counts.events === 0) return; // delivered meanwhile: nothing to wake for
      const wake: Wake = { userId: device.userId, deviceId: device.deviceId, unread: counts.messages };
      const outcome = await this.send(target, wake);
      switch (outcome.kind) {
        case 'sent':
          observer.pushSent(target.kind, (performance.now() - decidedAt) / 1000);
          logger.debug({ ...log, unread: wake.unread, tries }, 'push: sent');
          return;
        case 'gone':
          observer.pushFailed(target.kind, 'gone');
          if (await store.deletePushTarget(device.userId, device.deviceId, target)) observer.pushTargetRemoved(target.kind);
          logger.info({ ...log, status: outcome.status }, 'push: the subscription is gone; target removed');
          return;
        case 'refused':
          observer.pushFailed(target.kind, 'refused');
          logger.warn({ ...log, status: outcome.status, reason: outcome.reason }, 'push: refused by the push service');
          return;
        case 'retry': {
          observer.pushFailed(target.kind, 'retryable');
          const delay = tries < this.settings.maxTries ? retryDelay(tries, outcome.retryAfterMs) : undefined;
          if (delay === undefined) {
            logger.warn({ ...log, status: outcome.status, reason: outcome.reason, tries }, 'push: giving up on this wake');
            return;
          }
          logger.info({ ...log, status: outcome.status, reason: outcome.reason, tries, retryInMs: Math.round(delay) }, 'push: will retry');
          await this.sleep(delay);
          // Never while online: the device may have come back during the pause.
          if (this.stopped || (await this.isOnline(device))) return;
        }
      }
    }
  }

  private send(target: PushTarget, wake: Wake) {
    return this.sends.run(() =>
      target.kind === 'webpush' ? this.deps.senders.webpush.send(target, wake) : this.deps.senders.gateway.send(target, wake),
    );
  }

  private async isOnline(device: DeviceAddress): Promise<boolean> {
    return (await this.deps.bus.onlineDevices([device])).length > 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleep = {
        timer: setTimeout(() => {
          this.sleeps.delete(sleep);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeps.add(sleep);
    });
  }
}

