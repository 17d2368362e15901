import type { DeviceAddress } from '../../domain/device.js';
import type { Store } from '../../ports/store.js';
import type { PushHosts } from './push-hosts.js';
import { readPushTarget } from './push-target-input.js';

/** A device's push target, as its owner sets and removes it, and the key browsers subscribe with. */
export class PushService {
  constructor(
    private readonly store: Store,
    private readonly hosts: PushHosts,
    /** The VAPID application server key (base64url) that browsers pass to `pushManager.subscribe`. */
    readonly vapidPublicKey: string,
  ) {}

  /** Checks the body (400 `invalid_push` when it is not a target the server may use) and makes it the device's target. */
  async setTarget(device: DeviceAddress, body: unknown): Promise<void> {
    const target = readPushTarget(body, this.hosts);
    await this.store.savePushTarget(device.userId, device.deviceId, target);
  }

  async removeTarget(device: DeviceAddress): Promise<void> {
    await this.store.deletePushTarget(device.userId, device.deviceId);
  }
}
