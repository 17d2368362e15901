/** Turning any failure of a command into one sentence a person can act on. */
import { UsageError } from './options.js';

/** Our own usage errors, and those of `util.parseArgs` (unknown option, missing value...). */
export function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
