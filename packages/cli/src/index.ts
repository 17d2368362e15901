/**
 * courier-chat as a library: the probe, for embedding the same end-to-end checks in your own
 * monitoring. The `courier` command itself is `bin/courier.js`.
 */
export { runProbe, type ProbeSettings, type ProbeOutcome } from './probe/probe-run.js';
export { PromiseChecker, type Anomaly, type AnomalyKind, type Stage } from './probe/promise-checker.js';
export { ProbeMetrics } from './probe/probe-metrics.js';
export { probeAccounts, registerAccount, defaultPhones, type AccountSource } from './probe/probe-accounts.js';
export type { Profile } from './client-support/profile.js';
