import type { Logger } from '../observability/logger.js';
import type { PresenceService } from '../services/presence-service.js';
import type { SessionRegistry } from './session-registry.js';

/**
 * Catches the users who went offline without a word. A node that dies (kill -9, a lost machine)
 * publishes no `offline` for its devices; their directory entries only expire. So, now and then,
 * the watched users this node last told its sessions were online are looked up in the directory,
 * and those no longer there are declared offline, to every node.
 */
export class PresenceReconciler {
  private readonly timer: NodeJS.Timeout;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly registry: SessionRegistry,
    private readonly presence: PresenceService,
    intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  /** One look-up; overlapping calls share it. */
  check(): Promise<void> {
    this.checking ??= this.lookUp().finally(() => (this.checking = undefined));
    return this.checking;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private async lookUp(): Promise<void> {
    const believed = this.registry.watchedOnline;
    if (believed.length === 0) return;
    try {
      const online = await this.presence.onlineAmong(believed);
      // A change that arrived during the look-up is newer than it: only users still believed
      // online are declared offline.
      const still = new Set(this.registry.watchedOnline);
      for (const user of believed) {
        if (!online.has(user) && still.has(user)) await this.presence.wentOffline(user);
      }
    } catch (err) {
      this.logger.error({ err }, 'presence reconciliation failed; trying again at the next interval');
    }
  }
}
