import type { SessionRegistry } from '../session/session-registry.js';

export interface QueueStats {
  /** Events queued for this node's sessions: pushed or not, not yet acked. */
  total: number;
  /** The longest one session's queue, and whose it is. */
  largest: { events: number; user?: string; conn?: string };
}

/** One pass over the node's sessions; cheap enough to run every second and every scrape. */
export function queueStats(registry: SessionRegistry): QueueStats {
  let total = 0;
  let largest: QueueStats['largest'] = { events: 0 };
  for (const session of registry.all) {
    const events = session.queueLength;
    total += events;
    if (events > largest.events) {
      largest = { events, conn: session.connection.id, ...(session.userId !== undefined && { user: session.userId }) };
    }
  }
  return { total, largest };
}
