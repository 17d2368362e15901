/**
 * The users whose presence one socket watches, and what it was last told of each. A watcher
 * hears of changes only: devices of one user coming or going at once may announce the same
 * state twice.
 */
export class WatchedUsers {
  readonly users = new Set<string>();
  /** user → online as this socket was last told. */
  private readonly told = new Map<string, boolean>();

  constructor(readonly max: number) {}

  /** Watches `wanted` too; answers them without repeats, or undefined (nothing changed) past `max`. */
  add(wanted: string[]): string[] | undefined {
    const unique = [...new Set(wanted)];
    if (this.users.size + unique.length > this.max) return undefined;
    for (const user of unique) this.users.add(user);
    return unique;
  }

  /** Notes that the socket is told `online` of `user`; false when that is what it was told last. */
  tell(user: string, online: boolean): boolean {
    if (this.told.get(user) === online) return false;
    this.told.set(user, online);
    return true;
  }
}
