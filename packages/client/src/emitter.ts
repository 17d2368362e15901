/**
 * A small typed event emitter that runs in browsers and Node alike. Unlike Node's EventEmitter,
 * an `error` event without listeners is dropped, and listeners may be async: `emitSerial` awaits
 * each in turn, which is how durable events are acked only after the app has handled them.
 */

export type Listener<P> = (payload: P) => void | Promise<void>;

export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
  }

  /** Resolves with the next payload of `name`. */
  once<K extends keyof Events>(name: K): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (payload) => {
        off();
        resolve(payload);
      });
    });
  }

  listenerCount(name: keyof Events): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  /**
   * Calls every listener without waiting for them. A listener that throws or rejects is reported
   * to `onListenerError` (the client turns it into an `error` event) so one bad listener cannot
   * break the socket's read loop.
   */
  emit<K extends keyof Events>(name: K, payload: Events[K], onListenerError: (err: unknown) => void): void {
    for (const listener of this.#snapshot(name)) {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch(onListenerError);
      } catch (err) {
        onListenerError(err);
      }
    }
  }

  /** Calls the listeners one after the other, awaiting each; rejects with the first failure. */
  async emitSerial<K extends keyof Events>(name: K, payload: Events[K]): Promise<void> {
    for (const listener of this.#snapshot(name)) await listener(payload);
  }

  #snapshot<K extends keyof Events>(name: K): Listener<Events[K]>[] {
    return [...(this.#listeners.get(name) ?? [])] as Listener<Events[K]>[];
  }
}
