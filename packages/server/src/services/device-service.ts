import { isPrimary, type DeviceAddress } from '../domain/device.js';
import { CourierError } from '../domain/errors.js';
import type { Bus } from '../ports/bus.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { Store } from '../ports/store.js';
import { canonicalLinkCode, deviceTokenFor, linkCodeHash, newLinkCode } from './devices/link-secrets.js';
import { LinkWaiters } from './devices/link-waiters.js';
import { hashSecret, newToken } from './secrets.js';

export interface DeviceSettings {
  maxLinkedDevices: number;
  linkCodeTtlMs: number;
  /** Undefined: no rate limits (load tests). */
  limits?: { linksPerAddress: number; approvalsPerAccount: number; windowMs: number };
  /** How often a waiting poll looks at the store for an approval made on another node. */
  pollCheckMs?: number;
}

export interface DeviceView {
  deviceId: number;
  name: string;
  primary: boolean;
  linkedAt: number;
  lastSeen: number;
  online: boolean;
}

export type PollAnswer = { status: 'pending' } | { status: 'linked'; userId: string; deviceId: number; token: string };

const MAX_NAME_CHARS = 64;
const MAX_WAIT_SECONDS = 30;

/**
 * Linked devices: the three-step link (a new device asks, the primary approves its code, the
 * new device collects its token), the account's device list, and removal.
 */
export class DeviceService {
  private readonly waiters = new LinkWaiters();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly limiter: RateLimiter,
    private readonly settings: DeviceSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Step 1, on the new device (no account yet): a code to show and a secret to poll with. */
  async requestLink(name: unknown, clientAddress: string): Promise<{ linkCode: string; pollToken: string; expiresIn: number }> {
    const deviceName = checkName(name);
    await this.limit(`link:addr:${clientAddress}`, 'linksPerAddress');
    const linkCode = newLinkCode();
    const pollToken = newToken();
    await this.store.createLink({
      codeHash: linkCodeHash(canonicalLinkCode(linkCode) as string),
      pollHash: hashSecret(pollToken),
      tokenHash: hashSecret(deviceTokenFor(pollToken)),
      name: deviceName,
      expiresAt: this.now() + this.settings.linkCodeTtlMs,
    });
    return { linkCode, pollToken, expiresIn: Math.round(this.settings.linkCodeTtlMs / 1000) };
  }

  /** Step 2, on the primary: the shown code becomes a device of the primary's account. */
  async approve(approver: DeviceAddress, linkCode: unknown): Promise<{ deviceId: number; name: string }> {
    if (!isPrimary(approver)) throw primaryOnly('approve a link');
    await this.limit(`link:approve:${approver.userId}`, 'approvalsPerAccount');
    const canonical = typeof linkCode === 'string' ? canonicalLinkCode(linkCode) : undefined;
    if (canonical === undefined) throw invalidLinkCode();
    const result = await this.store.approveLink(linkCodeHash(canonical), approver.userId, this.now(), this.settings.maxLinkedDevices);
    if (result.outcome === 'unknown_code') throw invalidLinkCode();
    if (result.outcome === 'too_many_devices') {
      throw new CourierError(
        'too_many_devices',
        `The account already has ${this.settings.maxLinkedDevices} linked devices; remove one first.`,
        409,
      );
    }
    this.waiters.wakeAll();
    return { deviceId: result.deviceId, name: result.name };
  }

  /**
   * Step 3, on the new device: its token once approved (only once), else `pending` after waiting
   * up to `waitSeconds` for the approval.
   */
  async poll(pollToken: string, waitSeconds: number, signal?: AbortSignal): Promise<PollAnswer> {
    const pollHash = hashSecret(pollToken);
    const deadline = this.now() + Math.min(Math.max(0, waitSeconds), MAX_WAIT_SECONDS) * 1000;
    for (;;) {
      const link = await this.store.getLinkByPollHash(pollHash);
      if (link === undefined) throw unknownLink();
      if (link.device !== undefined) {
        const device = await this.store.collectLink(pollHash);
        if (device === undefined) throw unknownLink();
        return { status: 'linked', userId: device.userId, deviceId: device.deviceId, token: deviceTokenFor(pollToken) };
      }
      const now = this.now();
      if (link.expiresAt <= now) throw new CourierError('expired', 'The link code expired before it was approved; ask for a new one.', 410);
      if (now >= deadline || this.waiters.isClosed || signal?.aborted) return { status: 'pending' };
      await this.waiters.wait(Math.min(Math.min(deadline, link.expiresAt) - now, this.settings.pollCheckMs ?? 500), signal);
    }
  }

  /** Every device of the viewer's account, the viewer's own included. */
  async list(viewer: DeviceAddress): Promise<DeviceView[]> {
    const devices = await this.store.devicesOf([viewer.userId]);
    const online = await this.bus.onlineDevices(devices.map(({ userId, deviceId }) => ({ userId, deviceId })));
    const onlineIds = new Set(online.map((device) => device.deviceId));
    return devices.map((device) => ({
      deviceId: device.deviceId,
      name: device.name,
      primary: isPrimary(device),
      linkedAt: device.linkedAt,
      lastSeen: device.lastSeen,
      online: onlineIds.has(device.deviceId),
    }));
  }

  /**
   * The primary removes any linked device, a linked device only itself: its token dies, its
   * inbox is dropped, and its socket, on whichever node, is closed with 4001.
   */
  async remove(actor: DeviceAddress, deviceId: number): Promise<void> {
    if (!isPrimary(actor) && deviceId !== actor.deviceId) throw primaryOnly('remove another device');
    const target = { userId: actor.userId, deviceId };
    if (isPrimary(target)) {
      throw new CourierError('primary_not_removable', 'The primary device cannot be removed; register the phone again to replace it.', 400);
    }
    const removed = await this.store.removeDevice(target);
    if (removed === undefined) throw new CourierError('unknown_device', `The account has no device ${deviceId}.`, 404);
    await this.bus.signalDevice(target, { kind: 'revoked', tokenHash: removed.tokenHash });
  }

  /** Ends the long polls now (the node is stopping), so that they do not hold the stop up. */
  stop(): void {
    this.waiters.close();
  }

  private async limit(key: string, which: 'linksPerAddress' | 'approvalsPerAccount'): Promise<void> {
    const limits = this.settings.limits;
    if (limits === undefined) return;
    const decision = await this.limiter.hit(key, limits[which], limits.windowMs);
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw new CourierError('rate_limited', `Too many link requests; try again in ${seconds} s.`, 429, seconds);
    }
  }
}

function checkName(name: unknown): string {
  if (name === undefined) return 'Linked device';
  if (typeof name !== 'string' || name.trim() === '' || [...name].length > MAX_NAME_CHARS) {
    throw new CourierError('invalid_name', `A device name has 1 to ${MAX_NAME_CHARS} characters, not only spaces.`);
  }
  return name;
}

function primaryOnly(what: string): CourierError {
  return new CourierError('primary_only', `Only the primary device can ${what}.`, 403);
}

function invalidLinkCode(): CourierError {
  return new CourierError('invalid_link_code', 'No device is waiting with this link code (unknown, used or expired).', 404);
}

function unknownLink(): CourierError {
  return new CourierError('not_found', 'No link is pending for this poll token (unknown, or its token was collected already).', 404);
}
