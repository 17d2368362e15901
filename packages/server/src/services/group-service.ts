import { randomBytes } from 'node:crypto';
import { CourierError } from '../domain/errors.js';
import type { Group } from '../domain/group.js';
import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';
import { groupEvents } from './groups/group-events.js';
import { groupNotFound, groupTooLarge, listUsers } from './groups/group-errors.js';
import { changeMembership, promoteAdmins, type GroupChangeResult } from './groups/membership-change.js';
import { notifyAppended } from './notifier.js';

export interface GroupSettings {
  maxGroupSize: number;
}

export interface MembersChange {
  add?: string[];
  remove?: string[];
}

const MAX_NAME_CHARS = 100;

/**
 * Creation, reading and membership changes of groups. Every change is written together with a
 * durable `group` event for each member it concerns, so offline members and the actor's own
 * device learn of it like of a message.
 */
export class GroupService {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly settings: GroupSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The creator is the first member and the only admin; `members` may repeat or include the creator. */
  async create(creator: string, name: string, members: string[]): Promise<Group> {
    assertName(name);
    const all = unique([creator, ...members]);
    if (all.length > this.settings.maxGroupSize) throw groupTooLarge(this.settings.maxGroupSize);
    await this.assertRegistered(all.slice(1));
    const ts = this.now();
    const group: Group = { groupId: newGroupId(), name, members: all, admins: [creator], createdAt: ts };
    const appended = await this.store.createGroup(group, groupEvents(group, 'created', all, creator, ts, all));
    await notifyAppended(this.bus, appended);
    return group;
  }

  /** The group, for its members; anyone else gets the same 404 as for an unknown id. */
  async get(userId: string, groupId: string): Promise<Group> {
    const group = await this.store.getGroup(groupId);
    if (group === undefined || !group.members.includes(userId)) throw groupNotFound();
    return group;
  }

  /** The groups the user is a member of, oldest first. */
  list(userId: string): Promise<Group[]> {
    return this.store.groupsOf(userId);
  }

  /** Admins add and remove members; any member may remove itself (leave). */
  async changeMembers(actor: string, groupId: string, change: MembersChange): Promise<Group> {
    const add = unique(change.add ?? []);
    const remove = unique(change.remove ?? []);
    const removing = new Set(remove);
    const both = add.filter((user) => removing.has(user));
    if (both.length > 0) {
      throw new CourierError('invalid_request', `A user cannot be added and removed at once: ${listUsers(both)}.`);
    }
    const decide = (group: Group, ts: number) => changeMembership(group, actor, { add, remove }, this.settings.maxGroupSize, ts);
    // A dry run on the group as read now refuses a non-admin before it can probe who is registered.
    decide(await this.get(actor, groupId), this.now());
    await this.assertRegistered(add);
    return this.apply(groupId, decide);
  }

  /** Admins make other members admins too. */
  async addAdmins(actor: string, groupId: string, users: string[]): Promise<Group> {
    const wanted = unique(users);
    // Read first so that an unknown group gets the same 404 as a group the actor is not in.
    await this.get(actor, groupId);
    return this.apply(groupId, (group, ts) => promoteAdmins(group, actor, wanted, ts));
  }

  /**
   * Runs the decision inside the store's transaction (the membership checked there is the one
   * written), then signals the devices of the members concerned.
   */
  private async apply(groupId: string, decide: (group: Group, ts: number) => GroupChangeResult): Promise<Group> {
    const ts = this.now();
    const { group, appended } = await this.store.changeGroup(groupId, (current) => decide(current, ts));
    await notifyAppended(this.bus, appended);
    return group;
  }

  private async assertRegistered(users: string[]): Promise<void> {
    if (users.length === 0) return;
    const known = await this.store.existingUsers(users);
    const unknown = users.filter((user) => !known.has(user));
    if (unknown.length > 0) throw new CourierError('unknown_user', `Not registered users: ${listUsers(unknown)}.`);
  }
}

function assertName(name: string): void {
  const chars = [...name].length;
  if (chars < 1 || chars > MAX_NAME_CHARS || name.trim() === '') {
    throw new CourierError('invalid_name', `A group name has 1 to ${MAX_NAME_CHARS} characters, not only spaces.`);
  }
}

function newGroupId(): string {
  // The `g_` prefix keeps group ids apart from userIds, which start with `+`.
  return `g_${randomBytes(16).toString('base64url')}`;
}

function unique(users: string[]): string[] {
  return [...new Set(users)];
}
