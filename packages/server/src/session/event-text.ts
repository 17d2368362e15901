import type { DurableEvent } from '../domain/events.js';

/** Group messages whose text (without seq) is kept; a group message's pushes come close together. */
const CACHED_MESSAGES = 256;

/**
 * The wire text of durable events. A group message is pushed to every member with only `seq`
 * differing, so its text without `seq` is serialised once and `seq` is spliced in front for each
 * member, instead of serialising the whole event again per member. Keyed by serverId, which
 * names one message's content everywhere. Any other event goes to one user's devices: it is
 * serialised as it is (the stores put `seq` first), without the cache's bookkeeping.
 */
export class EventText {
  readonly #byServerId = new Map<string, string>();

  of(event: DurableEvent): string {
    if (event.type !== 'message' || event.group === undefined) return JSON.stringify(event);
    let rest = this.#byServerId.get(event.serverId);
    if (rest === undefined) {
      const { seq: _seq, ...withoutSeq } = event;
      rest = JSON.stringify(withoutSeq).slice(1);
      if (this.#byServerId.size >= CACHED_MESSAGES) this.#byServerId.delete(this.#byServerId.keys().next().value!);
      this.#byServerId.set(event.serverId, rest);
    }
    return `{"seq":${event.seq},${rest}`;
  }
}
