/** What a socket that watches nobody has: one for all of them. */
const NOBODY: ReadonlySet<string> = new Set();

/**
 * The users whose presence one socket watches, and what it was last told of each. A watcher
 * hears of changes only: devices of one user coming or going at once may announce the same
 * state twice. The collections are made on the first subscription: most of a node's sockets
 * are idle, and their memory is the node's capacity.
 */
export class WatchedUsers {
  private watched: Set<string> | undefined;
  /** user → online as this socket was last told. */
  private told: Map<string, boolean> | undefined;

  constructor(readonly max: number) {}

  get users(): ReadonlySet<string> {
    return this.watched ?? NOBODY;
  }

  /** Watches `wanted` too; answers them without repeats, or undefined (nothing changed) past `max`. */
  add(wanted: string[]): string[] | undefined {
    const unique = [...new Set(wanted)];
    if (this.users.size + unique.length > this.max) return undefined;
    const watched = (this.watched ??= new Set());
    for (const user of unique) watched.add(user);
    return unique;
  }

  /** Notes that the socket is told `online` of `user`; false when that is what it was told last. */
  tell(user: string, online: boolean): boolean {
    const told = (this.told ??= new Map());
    if (told.get(user) === online) return false;
    told.set(user, online);
    return true;
  }
}
