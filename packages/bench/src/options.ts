/** The benchmark's flags: every size is a flag; the defaults finish a full run in a few minutes on 2 cores. */

export const scenarioNames = ['throughput', 'latency', 'drain', 'sockets', 'media', 'fanout', 'soak', 'devices'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface BenchOptions {
  only: ScenarioName[];
  workers: number;
  profile: boolean;
  sqliteSync: 'full' | 'normal';
  serverLogLevel: string;
  ackEvery: number;
  ackDelayMs: number;
  bodyBytes: number;
  // 1 and 2
  pairs: number;
  windows: number[];
  warmupS: number;
  durationS: number;
  rate: number | undefined;
  latencyDurationS: number;
  // 3
  sockets: number;
  socketWorkers: number | undefined;
  socketConcurrency: number;
  settleS: number;
  // 4
  drainMessages: number;
  drainSenders: number;
  drainWindow: number;
  // 5
  groupSize: number;
  groupMessages: number;
  groupWindow: number;
  // media
  mediaMib: number;
  // soak
  soakDurationS: number;
  soakIntervalS: number;
  registerConcurrency: number;
  out: string | undefined;
  serverCheckout: string | undefined;
  postgres: string | undefined;
  redisUrl: string | undefined;
}

interface Flag {
  name: string;
  key: keyof BenchOptions;
  kind: 'int' | 'list' | 'ints' | 'string' | 'bool';
  default: unknown;
  help: string;
}

const flags: Flag[] = [
  { name: 'only', key: 'only', kind: 'list', default: [...scenarioNames], help: `scenarios to run, comma-separated: ${scenarioNames.join(',')}` },
  { name: 'workers', key: 'workers', kind: 'int', default: 2, help: 'load-generator processes' },
  { name: 'profile', key: 'profile', kind: 'bool', default: false, help: 'run the server under node --cpu-prof and summarise where its time went' },
  { name: 'sqlite-sync', key: 'sqliteSync', kind: 'string', default: 'full', help: 'the server\'s --sqlite-sync (full: durable commits)' },
  { name: 'server-log-level', key: 'serverLogLevel', kind: 'string', default: 'warn', help: 'the server\'s --log-level' },
  { name: 'ack-every', key: 'ackEvery', kind: 'int', default: 100, help: 'clients ack at least every this many events' },
  { name: 'ack-delay', key: 'ackDelayMs', kind: 'int', default: 10, help: 'otherwise this many ms after the first unacked event' },
  { name: 'body-bytes', key: 'bodyBytes', kind: 'int', default: 100, help: 'message body size' },
  { name: 'pairs', key: 'pairs', kind: 'int', default: 50, help: '1:1 scenarios: sender/recipient pairs' },
  { name: 'windows', key: 'windows', kind: 'ints', default: [4, 16, 64, 256], help: 'throughput: messages in flight per pair, one step each (stops once past the maximum)' },
  { name: 'warmup', key: 'warmupS', kind: 'int', default: 2, help: 'seconds of each step before measuring' },
  { name: 'duration', key: 'durationS', kind: 'int', default: 8, help: 'measured seconds of each throughput step' },
  { name: 'rate', key: 'rate', kind: 'int', default: undefined, help: 'latency: messages/s (default: half the measured throughput)' },
  { name: 'latency-duration', key: 'latencyDurationS', kind: 'int', default: 15, help: 'latency: measured seconds' },
  { name: 'sockets', key: 'sockets', kind: 'int', default: 19_000, help: 'idle sockets to open' },
  { name: 'socket-workers', key: 'socketWorkers', kind: 'int', default: undefined, help: 'processes holding them (default: enough for the fd limit)' },
  { name: 'socket-concurrency', key: 'socketConcurrency', kind: 'int', default: 100, help: 'sockets being opened at once per process' },
  { name: 'settle', key: 'settleS', kind: 'int', default: 5, help: 'seconds to let the server settle before a memory reading' },
  { name: 'drain-messages', key: 'drainMessages', kind: 'int', default: 100_000, help: 'offline drain: messages queued' },
  { name: 'drain-senders', key: 'drainSenders', kind: 'int', default: 10, help: 'offline drain: senders filling the queue' },
  { name: 'drain-window', key: 'drainWindow', kind: 'int', default: 64, help: 'offline drain: sends in flight per sender' },
  { name: 'group-size', key: 'groupSize', kind: 'int', default: 1000, help: 'fan-out: members of the group, sender included' },
  { name: 'group-messages', key: 'groupMessages', kind: 'int', default: 200, help: 'fan-out: messages sent to the group' },
  { name: 'group-window', key: 'groupWindow', kind: 'int', default: 4, help: 'fan-out: sends in flight' },
  { name: 'soak-duration', key: 'soakDurationS', kind: 'int', default: 600, help: 'soak: seconds of load at half the maximum (or --rate)' },
  { name: 'soak-interval', key: 'soakIntervalS', kind: 'int', default: 30, help: 'soak: seconds per measured interval (RSS and p99 each)' },
  { name: 'media-mib', key: 'mediaMib', kind: 'int', default: 50, help: 'media: upload size in MiB' },
  { name: 'register-concurrency', key: 'registerConcurrency', kind: 'int', default: 64, help: 'registrations in flight' },
  { name: 'server-checkout', key: 'serverCheckout', kind: 'string', default: undefined, help: 'run the built server of this checkout (e.g. a worktree of an older commit) instead of this one\'s' },
  { name: 'postgres', key: 'postgres', kind: 'string', default: undefined, help: 'PostgreSQL admin URL: each server gets a fresh database there (--database-url) instead of SQLite' },
  { name: 'redis-url', key: 'redisUrl', kind: 'string', default: undefined, help: 'the servers\' --redis-url (each with a prefix of its own)' },
  { name: 'out', key: 'out', kind: 'string', default: undefined, help: 'JSON results file (default bench-results/<timestamp>.json)' },
];

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const options: Record<string, unknown> = Object.fromEntries(flags.map((flag) => [flag.key, flag.default]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const flag = flags.find((f) => f.name === name);
    if (flag === undefined) throw new UsageError(`unknown option --${name}`);
    if (flag.kind === 'bool') {
      options[flag.key] = true;
      continue;
    }
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    options[flag.key] = parseValue(flag, value);
  }
  const parsed = options as unknown as BenchOptions;
  if (parsed.sqliteSync !== 'full' && parsed.sqliteSync !== 'normal') throw new UsageError('--sqlite-sync takes full or normal');
  if (parsed.pairs < 1 || parsed.workers < 1 || parsed.groupSize < 2 || parsed.drainSenders < 1) throw new UsageError('sizes must be at least 1 (a group at least 2)');
  return parsed;
}

function parseValue(flag: Flag, value: string): unknown {
  switch (flag.kind) {
    case 'string':
      return value;
    case 'int': {
      const n = Number(value.replaceAll('_', ''));
      if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${flag.name} takes a whole number, not "${value}"`);
      return n;
    }
    case 'ints':
      return value.split(',').map((part) => parseValue({ ...flag, kind: 'int' }, part.trim()));
    case 'list': {
      const names = value.split(',').map((part) => part.trim()).filter(Boolean);
      for (const name of names) if (!(scenarioNames as readonly string[]).includes(name)) throw new UsageError(`unknown scenario "${name}" (${scenarioNames.join(', ')})`);
      // Always in the canonical order: latency follows throughput, whose result it uses.
      return scenarioNames.filter((name) => names.includes(name));
    }
    case 'bool':
      return true;
  }
}

export function usage(): string {
  const lines = flags.map((flag) => {
    const def = flag.default === undefined || flag.kind === 'bool' ? '' : ` (default ${Array.isArray(flag.default) ? flag.default.join(',') : String(flag.default)})`;
    return `  --${flag.name.padEnd(22)} ${flag.help}${def}`;
  });
  return `usage: npm run bench -- [options]\n\n${lines.join('\n')}\n`;
}
