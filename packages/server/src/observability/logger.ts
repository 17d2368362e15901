import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; every line names the node so a cluster's logs can be merged. */
export function createLogger(level: string, nodeId: string): Logger {
  return pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.isoTime });
}
