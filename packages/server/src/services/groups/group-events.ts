import type { GroupChange, InboxEntry } from '../../domain/events.js';
import type { Group } from '../../domain/group.js';

/**
 * One membership event for each of `recipients`. `name`, `members` and `admins` are the group
 * after the whole request, so a client that overwrites its copy with any of them is right.
 */
export function groupEvents(
  group: Group,
  change: GroupChange,
  users: string[],
  by: string,
  ts: number,
  recipients: Iterable<string>,
): InboxEntry[] {
  return [...new Set(recipients)].map((userId) => ({
    userId,
    event: {
      type: 'group',
      groupId: group.groupId,
      change,
      users: [...users],
      by,
      name: group.name,
      members: [...group.members],
      admins: [...group.admins],
      ts,
    },
  }));
}
