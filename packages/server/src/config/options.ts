import { parseArgs } from 'node:util';

/**
 * Every server option, once: the flag, its COURIER_* variable, its default and what it does.
 * The parser, `courier serve --help` and the README's table all come from this list.
 */
export interface OptionSpec {
  flag: string;
  kind: 'string' | 'integer' | 'boolean';
  default?: string | number | boolean;
  help: string;
}

export const optionSpecs = [
  { flag: 'port', kind: 'integer', default: 8080, help: 'TCP port to listen on (0 picks a free one)' },
  { flag: 'host', kind: 'string', default: '127.0.0.1', help: 'address to bind; 0.0.0.0 serves every interface' },
  { flag: 'data-dir', kind: 'string', default: './data', help: 'where the embedded database and, without --database-url, media live' },
  { flag: 'sms-outbox', kind: 'string', help: 'file SMS provider: append one JSON line per code to this file' },
  { flag: 'sms-webhook', kind: 'string', help: 'webhook SMS provider: POST {phone, code, at} as JSON to this URL' },
  { flag: 'database-url', kind: 'string', help: 'keep all state in PostgreSQL (postgres://...) instead of the embedded database' },
  { flag: 'media-url', kind: 'string', help: 'where media blobs live: postgres://... or file:///path (default: the --database-url database if set, else <data-dir>/media); s3:// is not available yet' },
  { flag: 'redis-url', kind: 'string', help: 'join a cluster: presence, routing and rate limits through Redis (redis://host:port) or a Redis Cluster (redis+cluster://host:port,host:port)' },
  { flag: 'redis-prefix', kind: 'string', default: 'courier:', help: 'prefix of the Redis keys and channels of this deployment (one per deployment sharing a Redis)' },
  { flag: 'trust-proxy', kind: 'boolean', default: false, help: 'take the client address from X-Forwarded-For (only behind a load balancer that overwrites it)' },
  { flag: 'node-id', kind: 'string', help: 'this node\'s name in a cluster (default: host name and a random suffix)' },
  { flag: 'web', kind: 'boolean', default: true, help: 'serve the web client at / (--no-web: the API only)' },
  { flag: 'no-rate-limits', kind: 'boolean', default: false, help: 'switch every rate limit off (load tests on one machine; never in production)' },
  { flag: 'sqlite-sync', kind: 'string', default: 'full', help: 'embedded database fsync: full (survives power loss) or normal (survives kill -9)' },
  { flag: 'code-ttl', kind: 'integer', default: 600, help: 'seconds a registration code stays valid' },
  { flag: 'code-requests-per-phone', kind: 'integer', default: 5, help: 'code requests allowed per phone per 10 minutes' },
  { flag: 'code-requests-per-address', kind: 'integer', default: 300, help: 'registration calls allowed per client address per 10 minutes' },
  { flag: 'code-verifies-per-phone', kind: 'integer', default: 10, help: 'code verifications allowed per phone per 10 minutes, from all addresses together' },
  { flag: 'code-secret', kind: 'string', help: 'key of the stored registration code hashes (default: made on first start and kept in the store)' },
  { flag: 'max-linked-devices', kind: 'integer', default: 4, help: 'linked devices an account may have besides its primary' },
  { flag: 'link-code-ttl', kind: 'integer', default: 300, help: 'seconds a device link code stays valid for approval' },
  { flag: 'max-frame-bytes', kind: 'integer', default: 65536, help: 'largest socket frame; a larger one closes the socket with 1009' },
  { flag: 'frame-rate', kind: 'integer', default: 500, help: 'socket frames per second a connection may send (bursts of twice that)' },
  { flag: 'max-sends-in-flight', kind: 'integer', default: 1000, help: 'sends one connection may have waiting for their answer; past it a send gets error too_many_in_flight' },
  { flag: 'http-rate', kind: 'integer', default: 3000, help: 'HTTP requests allowed per client address per minute, on every route (shared through Redis in a cluster)' },
  { flag: 'request-timeout', kind: 'integer', default: 600, help: 'seconds a client has to send a whole HTTP request, body included (an upload too)' },
  { flag: 'idle-timeout', kind: 'integer', default: 60, help: 'seconds an HTTP connection may stay silent before it is closed' },
  { flag: 'metrics-port', kind: 'integer', help: 'serve /metrics on this port only (same --host), not on the main port' },
  { flag: 'heartbeat', kind: 'integer', default: 30, help: 'seconds between server pings; a socket that misses one is dropped' },
  { flag: 'send-buffer-bytes', kind: 'integer', default: 1048576, help: 'bytes queued on a socket before the session stops pushing until it drains' },
  { flag: 'max-group-size', kind: 'integer', default: 1024, help: 'most members a group may have' },
  { flag: 'max-media-bytes', kind: 'integer', default: 67108864, help: 'largest media upload, in bytes' },
  { flag: 'media-quota-bytes', kind: 'integer', default: 1073741824, help: 'bytes one user may upload per 24 hours' },
  { flag: 'edit-window', kind: 'integer', default: 900, help: 'seconds after sending during which the author may edit a message' },
  { flag: 'delete-window', kind: 'integer', default: 172800, help: 'seconds after sending during which the author may delete a message for everyone' },
  { flag: 'media-retention-days', kind: 'integer', default: 30, help: 'days an unreferenced media blob is kept' },
  { flag: 'log-level', kind: 'string', default: 'info', help: 'fatal, error, warn, info, debug or trace' },
  { flag: 'tls-cert', kind: 'string', help: 'PEM certificate file: serve HTTPS and WSS (with --tls-key)' },
  { flag: 'tls-key', kind: 'string', help: 'PEM private key file for --tls-cert' },
  { flag: 'push-interval', kind: 'integer', default: 10, help: 'seconds: at most one push per offline device per this long (later events wait for the next)' },
  { flag: 'push-hosts', kind: 'string', default: 'fcm.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,web.push.apple.com', help: 'hosts (or *.domain) push endpoints and gateways may be on; add your push gateway\'s host' },
  { flag: 'push-subject', kind: 'string', default: 'mailto:postmaster@localhost', help: 'VAPID contact the browser push services see (mailto: or https: URL of the operator)' },
  { flag: 'alert-session-queue', kind: 'integer', default: 1000, help: 'alert when one session has more events queued (pushed or not, unacked); 0 disables' },
  { flag: 'alert-node-queue', kind: 'integer', default: 50000, help: 'alert when this node\'s sessions have more events queued in total; 0 disables' },
  { flag: 'alert-backlog-age', kind: 'integer', default: 3600, help: 'alert when the oldest undelivered event in the store is older, in seconds; 0 disables' },
  { flag: 'alert-loop-lag', kind: 'integer', default: 500, help: 'alert when the event loop lags more (p99 over one interval), in ms; 0 disables' },
  { flag: 'alert-push-failures', kind: 'integer', default: 50, help: 'alert when more than this percentage of push requests failed over the last 5 minutes (at least 20 requests); 0 disables' },
  { flag: 'alert-webhook', kind: 'string', help: 'POST {alert, state, value, threshold, node, at} as JSON to this URL when an alert fires or resolves' },
  { flag: 'alert-interval', kind: 'integer', default: 1000, help: 'ms between alert checks (also the event-loop lag window)' },
  { flag: 'backlog-interval', kind: 'integer', default: 5000, help: 'ms between samples of the stored backlog (a count over all inboxes)' },
] as const satisfies readonly OptionSpec[];

type Specs = typeof optionSpecs;
type Spec = Specs[number];
type ValueOf<S extends Spec> = S['kind'] extends 'integer' ? number : S['kind'] extends 'boolean' ? boolean : string;
type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** The parsed options: camelCase keys; options without a default may be undefined. */
export type Options = {
  [S in Spec as CamelCase<S['flag']>]: S extends { default: unknown } ? ValueOf<S> : ValueOf<S> | undefined;
};

export function envName(flag: string): string {
  return `COURIER_${flag.toUpperCase().replaceAll('-', '_')}`;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses `--flag value`, `--flag=value`, `--flag` and `--no-flag` (booleans) with node's `util.parseArgs`, as
 * the CLI does; flags win over COURIER_* variables. Anything wrong is an OptionError.
 */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): Options {
  const raw = new Map<string, string | boolean>();
  for (const spec of optionSpecs) {
    const fromEnv = env[envName(spec.flag)];
    if (fromEnv !== undefined && fromEnv !== '') raw.set(spec.flag, fromEnv);
  }
  for (const [flag, value] of Object.entries(parseFlags(argv))) {
    if (value !== undefined) raw.set(flag, value);
  }
  const options: Record<string, unknown> = {};
  for (const spec of optionSpecs as readonly OptionSpec[]) {
    const value = raw.get(spec.flag) ?? spec.default;
    options[camel(spec.flag)] = value === undefined ? undefined : coerce(spec, value);
  }
  return options as Options;
}

function parseFlags(argv: string[]): Record<string, string | boolean | undefined> {
  const config = Object.fromEntries(
    optionSpecs.map((spec) => [spec.flag, { type: spec.kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  try {
    const values: Record<string, string | boolean | undefined> = {
      ...parseArgs({ args: argv, options: config, strict: true, allowPositionals: false, allowNegative: true }).values,
    };
    // A flag spelled `--no-x` (the contract's `--no-rate-limits`) comes back as the negation of `x`.
    for (const [flag, value] of Object.entries(values)) {
      if (typeof value === 'boolean' && !(flag in config) && `no-${flag}` in config) {
        values[`no-${flag}`] = !value;
        delete values[flag];
      }
    }
    return values;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    const flag = /'(--[a-z0-9-]+)/.exec((err as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined && optionSpecs.some((spec) => `--${spec.flag}` === flag && spec.kind !== 'boolean')) {
      throw new OptionError(`${flag} needs a value`);
    }
    throw new OptionError((err as Error).message);
  }
}

function coerce(spec: OptionSpec, value: string | number | boolean): string | number | boolean {
  if (spec.kind === 'string') return String(value);
  if (spec.kind === 'integer') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new OptionError(`--${spec.flag} takes a whole number, not "${value}"`);
    return n;
  }
  if (typeof value === 'boolean') return value;
  const text = String(value).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw new OptionError(`--${spec.flag} takes true or false, not "${value}"`);
}

export class OptionError extends Error {
  override name = 'OptionError';
}

export function optionsHelp(): string {
  return optionSpecs
    .map((s) => {
      const def = 'default' in s ? ` (default ${String(s.default)})` : '';
      return `  --${s.flag.padEnd(26)} ${s.help}${def}\n  ${''.padEnd(28)} env ${envName(s.flag)}`;
    })
    .join('\n');
}
