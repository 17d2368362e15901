import type { Group } from '../domain/group.js';
import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';

export interface GroupSettings {
  maxGroupSize: number;
}

/** STUB: to be written (groups helper). Creation, reading and membership changes of groups. */
export class GroupService {
  constructor(
    readonly store: Store,
    readonly bus: Bus,
    readonly settings: GroupSettings,
    readonly now: () => number = Date.now,
  ) {}

  async create(_creator: string, _name: string, _members: string[]): Promise<Group> {
    throw new Error('not implemented');
  }
}
