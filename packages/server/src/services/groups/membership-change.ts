import { CourierError } from '../../domain/errors.js';
import type { InboxEntry } from '../../domain/events.js';
import type { Group } from '../../domain/group.js';
import { groupEvents } from './group-events.js';
import { groupNotFound, groupTooLarge, listUsers, notAdmin } from './group-errors.js';

export interface MembershipRequest {
  /** Registered users, deduplicated. */
  add: string[];
  /** Deduplicated; users who are not members are ignored. */
  remove: string[];
}

export interface GroupChangeResult {
  group: Group;
  events: InboxEntry[];
}

/**
 * Decides a members change from the group as it is inside the store's transaction, so that the
 * permission check and the write see the same group. Throws a CourierError to refuse.
 *
 * Members are kept in the order they joined: when the last admin leaves, the oldest remaining
 * member becomes admin, so a group with members always has one.
 */
export function changeMembership(
  group: Group,
  actor: string,
  request: MembershipRequest,
  maxGroupSize: number,
  ts: number,
): GroupChangeResult {
  const current = new Set(group.members);
  if (!current.has(actor)) throw groupNotFound();
  const leavingOnly = request.add.length === 0 && request.remove.every((user) => user === actor);
  if (!group.admins.includes(actor) && !leavingOnly) throw notAdmin();

  const removing = new Set(request.remove);
  const removed = group.members.filter((member) => removing.has(member));
  const added = request.add.filter((user) => !current.has(user));
  const members = [...group.members.filter((member) => !removing.has(member)), ...added];
  // Only growth is refused: a group over a limit lowered since must still be able to shrink.
  if (added.length > 0 && members.length > maxGroupSize) throw groupTooLarge(maxGroupSize);

  const kept = group.admins.filter((admin) => !removing.has(admin));
  const promoted = kept.length === 0 && members.length > 0 ? [members[0]!] : [];
  const next: Group = { ...group, members, admins: [...kept, ...promoted] };

  const events: InboxEntry[] = [];
  if (removed.length > 0) events.push(...groupEvents(next, 'members_removed', removed, actor, ts, [...members, ...removed]));
  if (added.length > 0) events.push(...groupEvents(next, 'members_added', added, actor, ts, members));
  if (promoted.length > 0) events.push(...groupEvents(next, 'admins_added', promoted, actor, ts, members));
  return { group: next, events };
}

/** Makes members admins; admins only. Users already admin are left as they are. */
export function promoteAdmins(group: Group, actor: string, users: string[], ts: number): GroupChangeResult {
  const members = new Set(group.members);
  if (!members.has(actor)) throw groupNotFound();
  if (!group.admins.includes(actor)) throw notAdmin();
  const outsiders = users.filter((user) => !members.has(user));
  if (outsiders.length > 0) {
    throw new CourierError('not_member', `Only members can be made admins; not members: ${listUsers(outsiders)}.`);
  }
  const promoted = users.filter((user) => !group.admins.includes(user));
  const next: Group = { ...group, admins: [...group.admins, ...promoted] };
  const events = promoted.length > 0 ? groupEvents(next, 'admins_added', promoted, actor, ts, next.members) : [];
  return { group: next, events };
}
