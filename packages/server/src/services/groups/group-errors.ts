import { CourierError } from '../../domain/errors.js';

/** The same answer for a group that does not exist and one the user is not in: existence stays private. */
export function groupNotFound(): CourierError {
  return new CourierError('not_found', 'No such group, or you are not a member of it.', 404);
}

export function notAdmin(): CourierError {
  return new CourierError('forbidden', 'Only an admin of the group can do this (a member may only remove itself).', 403);
}

export function groupTooLarge(maxGroupSize: number): CourierError {
  return new CourierError('group_too_large', `A group may have at most ${maxGroupSize} members, its creator included.`);
}

/** Names at most a few users, so that a long list cannot blow up the message. */
export function listUsers(users: string[]): string {
  const shown = users.slice(0, 10).join(', ');
  return users.length > 10 ? `${shown} and ${users.length - 10} more` : shown;
}
