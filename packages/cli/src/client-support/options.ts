/**
 * Options shared by the client commands: `--server <url>` and `--profile <name>`, plus each
 * command's own, parsed with node's `util.parseArgs` (unknown options are errors).
 */
import { env } from 'node:process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { httpBase } from 'courier-chat-client/node';

export const defaultServer = 'http://127.0.0.1:8080';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const common = {
  server: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

export interface CommonOptions {
  /** The `--server` flag or COURIER_SERVER; undefined when neither is given (the profile's then applies). */
  server: string | undefined;
  profile: string;
  help: boolean;
}

export interface ParsedCommand {
  shared: CommonOptions;
  /** The command's own options by name (strings and booleans, as declared). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parseCommand(args: string[], own: OptionsConfig): ParsedCommand {
  const { values, positionals } = parseArgs({ args, options: { ...common, ...own }, allowPositionals: true, strict: true });
  const flags = values as Record<string, string | boolean | undefined>;
  const server = typeof flags.server === 'string' ? flags.server : nonEmpty(env.COURIER_SERVER);
  const profile = typeof flags.profile === 'string' ? flags.profile : (nonEmpty(env.COURIER_PROFILE) ?? 'default');
  const shared: CommonOptions = { server, profile, help: flags.help === true };
  return { shared, values, positionals };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The server to use: the flag or COURIER_SERVER, else the one the profile registered with, else the default. */
export function serverOf(shared: CommonOptions, profileServer?: string): string {
  const server = shared.server ?? profileServer ?? defaultServer;
  try {
    httpBase(server);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  return server;
}

/** A usage error: main prints its message and exits 2 (1 is for commands that failed). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
