/**
 * Long polls of new devices waiting for their approval on this node. An approval here wakes
 * them at once; one on another node is found by the poll's next look at the store.
 */
export class LinkWaiters {
  private readonly waiting = new Set<() => void>();
  private closed = false;

  /** Resolves after `ms`, at the next approval on this node, or at close, whichever comes first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }

  /** Ends every wait now and every later one at once (the node is stopping). */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
