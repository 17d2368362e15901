import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DurableEvent } from '../src/domain/events.js';
import { InboxPump } from '../src/session/inbox-pump.js';

function event(seq: number): DurableEvent {
  return { type: 'receipt', seq, status: 'delivered', serverIds: [`m${seq}`], by: '+15550000001', ts: seq };
}

describe('InboxPump', () => {
  it('skips what an earlier connection acked while this one was reading, instead of reading forever', async () => {
    // The inbox as the store holds it: seqs 1..20, two-event pages.
    let stored = Array.from({ length: 20 }, (_, i) => event(i + 1));
    const pushed: number[] = [];
    let reads = 0;
    const done = new Promise<void>((resolve) => {
      const pump = new InboxPump(
        {
          read: async (afterSeq, limit) => {
            reads++;
            const page = stored.filter((e) => e.seq > afterSeq).slice(0, limit);
            // After the first page, the device's previous connection has its acks up to 9 applied.
            if (reads === 1) stored = stored.filter((e) => e.seq > 9);
            if (reads > 100) {
              // Stuck re-reading the same page: stop the pump (its reads fail) so the test can fail.
              resolve();
              throw new Error('too many reads');
            }
            return page;
          },
          push: (e) => {
            pushed.push(e.seq);
            if (e.seq === 20) resolve();
          },
          canPush: () => true,
          onReadError: () => undefined,
        },
        2,
      );
      pump.start(20);
    });
    await done;
    assert.ok(reads <= 100, `the pump read ${reads} pages: it did not move past the acked events`);
    assert.deepEqual(pushed, [1, 2, ...Array.from({ length: 11 }, (_, i) => i + 10)]);
  });
});
