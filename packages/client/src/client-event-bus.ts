/**
 * Where every part of the client emits the app's events. A listener that throws must not break
 * the socket's read loop, so its failure becomes an `error` event instead of propagating.
 */
import type { ClientEvents } from './client-events.js';
import { Emitter, type Listener } from './emitter.js';

export class ClientEventBus {
  readonly #emitter = new Emitter<ClientEvents>();

  on<K extends keyof ClientEvents>(name: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#emitter.on(name, listener);
  }

  off<K extends keyof ClientEvents>(name: K, listener: Listener<ClientEvents[K]>): void {
    this.#emitter.off(name, listener);
  }

  once<K extends keyof ClientEvents>(name: K): Promise<ClientEvents[K]> {
    return this.#emitter.once(name);
  }

  /** Calls the listeners without waiting for them. */
  emit<K extends keyof ClientEvents>(name: K, payload: ClientEvents[K]): void {
    this.#emitter.emit(name, payload, (err) => {
      // Reporting a failed `error` listener as an `error` event could loop forever.
      if (name === 'error') console.error('courier: an error listener threw', err);
      else this.report(err);
    });
  }

  /** Tells the app about a failure that has no caller to reject. */
  report(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  /** Runs the listeners one after the other, awaiting each, so that an ack can wait for them. */
  deliver<K extends keyof ClientEvents>(name: K, payload: ClientEvents[K]): Promise<void> {
    return this.#emitter.emitSerial(name, payload);
  }
}
