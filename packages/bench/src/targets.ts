/** The targets printed beside the results (2-core machine, generator on the same machine). */
export const targets = {
  /** 1: 1:1 messages per second, each acked and its receipt back. */
  throughput: 30_000,
  /** 2: send → receive p99 at half the maximum load, in ms. */
  latencyP99Ms: 20,
  /** 3: idle authenticated sockets... */
  sockets: 19_000,
  /** ...at most this many bytes of server memory each. */
  bytesPerSocket: 8 * 1024,
  /** 4: a 100,000-message backlog delivered to a reconnecting device within, in ms. */
  drainMs: 1_000,
  /** 5: group member deliveries per second. */
  deliveriesPerSecond: 100_000,
  /** Soak: server RSS growth after the first interval, in percent. */
  soakRssGrowthPercent: 10,
} as const;
