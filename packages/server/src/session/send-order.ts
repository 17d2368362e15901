/** Swallows a failure already answered elsewhere: the chain only needs to go on. */
const ignore = (): undefined => undefined;
/** Where every connection's chain starts: one promise for all, not one per socket. */
const started: Promise<unknown> = Promise.resolve();

/**
 * The sends and actions of one connection: at most `max` of them waiting for their answer, and
 * their writes handed to the store in frame order.
 *
 * Past the limit a send is refused, not queued: the client learns at once that this one was not
 * taken and sends it again later with the same id; nothing is lost and the node's memory stays
 * bounded. Each frame's `check` runs after the previous frame's check and answers how to store;
 * the write goes to the store as soon as its own check is done. The store then sees the device's
 * sends and actions in frame order (so do their seqs and their `sent` answers), while their
 * commits still share transactions.
 *
 * Runs for every message: plain promise chains and no closure beyond the one per frame that
 * keeps its write, since each async layer costs promises and garbage.
 */
export class SendOrder {
  private tail: Promise<unknown> = started;
  private inFlight = 0;

  constructor(readonly max: number) {}

  /** Takes a place for one more send; false when `max` already wait (refuse this one). */
  tryTake(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  /** The send that took a place was answered (sent or error). */
  answered(): void {
    this.inFlight--;
  }

  /** Checks after the previous frame's check, then stores; resolves with what the store answered. */
  run<T>(check: () => Promise<() => Promise<T>>): Promise<T> {
    let stored: Promise<T> | undefined;
    const handedOver = this.tail.then(check).then((store) => {
      stored = store();
    });
    // A failed check or hand-over is answered to its own frame; the next frames still go on.
    this.tail = handedOver.catch(ignore);
    return handedOver.then(() => stored!);
  }
}
