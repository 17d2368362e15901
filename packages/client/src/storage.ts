/**
 * Where the SDK keeps the little it must remember across app restarts (the highest `seq` handed
 * to the app). Sync or async; `localStorage` fits with
 * `{ get: (k) => localStorage.getItem(k), set: (k, v) => localStorage.setItem(k, v) }`.
 */
export interface ClientStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** The default: remembers for the life of the process only. */
export class MemoryStorage implements ClientStorage {
  readonly #values = new Map<string, string>();

  get(key: string): string | undefined {
    return this.#values.get(key);
  }

  set(key: string, value: string): void {
    this.#values.set(key, value);
  }
}
