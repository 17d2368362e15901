import type { SessionRegistry } from '../session/session-registry.js';
import type { AlertName, Reading } from './alerts.js';
import type { BacklogSampler } from './backlog-sampler.js';
import type { EventLoopLag } from './event-loop-lag.js';
import type { PushFailureWindow } from './push-failure-window.js';
import { queueStats } from './queue-stats.js';

/** What each alert is checked against, measured now on this node. */
export function nodeReadings(
  sessions: SessionRegistry,
  backlog: BacklogSampler,
  lag: EventLoopLag,
  pushes: PushFailureWindow,
): Record<AlertName, Reading | undefined> {
  const { total, largest } = queueStats(sessions);
  const sample = backlog.last;
  const now = Date.now();
  return {
    session_queue: {
      value: largest.events,
      detail: { ...(largest.user !== undefined && { user: largest.user }), ...(largest.conn !== undefined && { conn: largest.conn }) },
    },
    node_queue: { value: total },
    // The sample may be a few seconds old; the oldest event has aged since, unless acked.
    backlog_age: sample === undefined ? undefined : { value: sample.oldestTs === undefined ? 0 : Math.max(0, now - sample.oldestTs) / 1000 },
    loop_lag: { value: lag.last.p99Ms },
    push_failures: readingOf(pushes.failurePercent()),
  };
}

function readingOf(value: number | undefined): Reading | undefined {
  return value === undefined ? undefined : { value };
}
