import { CourierError } from '../domain/errors.js';
import type { Bus } from '../ports/bus.js';
import type { PresenceVisibility, Store } from '../ports/store.js';
import { changeMembership } from './groups/membership-change.js';
import { notifyAppended } from './notifier.js';

const VISIBILITIES: readonly PresenceVisibility[] = ['everyone', 'contacts', 'nobody'];

/**
 * Blocking, presence visibility and account deletion.
 *
 * Blocking follows WhatsApp: a blocked user's 1:1 sends are answered `sent` and stored for
 * nobody, presence and typing stop both ways, and unblocking delivers nothing sent meanwhile.
 * Groups are not affected: members who block each other still see each other's group messages.
 */
export class PrivacyService {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {}

  async block(blocker: string, target: string): Promise<void> {
    if (target === blocker) throw new CourierError('invalid_request', 'You cannot block yourself.');
    const known = await this.store.existingUsers([target]);
    if (!known.has(target)) throw new CourierError('unknown_user', `No user ${target} is registered.`, 404);
    await this.store.setBlocked(blocker, target, true, this.now());
  }

  /** Unblocking a user that is not blocked (or not registered) changes nothing and succeeds. */
  unblock(blocker: string, target: string): Promise<void> {
    return this.store.setBlocked(blocker, target, false, this.now());
  }

  blocked(blocker: string): Promise<string[]> {
    return this.store.blockedBy(blocker);
  }

  async setPresenceVisibility(userId: string, visibility: unknown): Promise<void> {
    if (!VISIBILITIES.includes(visibility as PresenceVisibility)) {
      throw new CourierError('invalid_request', `presence must be one of ${VISIBILITIES.join(', ')}.`);
    }
    await this.store.setPresenceVisibility(userId, visibility as PresenceVisibility);
  }

  /**
   * Removes the account from every store and closes its sockets (4001) on whichever node holds
   * them. Its groups lose it as if it had left (the others get a `members_removed` event, and
   * the oldest member becomes admin when it was the last one). Messages it sent that are still
   * in other inboxes stay: they belong to their recipients now.
   */
  async deleteAccount(userId: string): Promise<void> {
    // Each group is left as a member leaves it, in its own transaction; the account goes last, so
    // a deletion cut short is finished by asking again (the token still works until then).
    for (const { groupId } of await this.store.groupsOf(userId)) {
      const ts = this.now();
      const { appended } = await this.store.changeGroup(groupId, (group) =>
        group.members.includes(userId)
          ? changeMembership(group, userId, { add: [], remove: [userId] }, Number.MAX_SAFE_INTEGER, ts)
          : { group, events: [] },
      );
      await notifyAppended(this.bus, appended.filter((entry) => entry.userId !== userId));
    }
    const { revoked } = await this.store.deleteAccount(userId);
    await Promise.all(revoked.map(({ deviceId, tokenHash }) => this.bus.signalDevice({ userId, deviceId }, { kind: 'revoked', tokenHash })));
  }
}
