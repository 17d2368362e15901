import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OptionError, type Options } from '../config/options.js';
import { MemoryBus } from '../adapters/bus/memory/memory-bus.js';
import { RedisBus } from '../adapters/bus/redis/redis-bus.js';
import { MemoryRateLimiter } from '../adapters/rate-limiter/memory/memory-rate-limiter.js';
import { RedisRateLimiter } from '../adapters/rate-limiter/redis/redis-rate-limiter.js';
import { ConsoleSmsProvider } from '../adapters/sms/console-sms-provider.js';
import { FileSmsProvider } from '../adapters/sms/file-sms-provider.js';
import { WebhookSmsProvider } from '../adapters/sms/webhook-sms-provider.js';
import { PostgresStore } from '../adapters/store/postgres/postgres-store.js';
import { SqliteWorkerStore } from '../adapters/store/sqlite/sqlite-worker-store.js';
import type { Logger } from '../observability/logger.js';
import type { Bus } from '../ports/bus.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { SmsProvider } from '../ports/sms-provider.js';
import type { Store } from '../ports/store.js';

/** The adapter kind a URL names; an unknown scheme is a configuration error, never a silent default. */
function schemeOf(flag: string, url: string, kinds: Record<string, string>): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new OptionError(`--${flag}: "${url}" is not a URL`);
  }
  const kind = kinds[protocol];
  if (kind === undefined) throw new OptionError(`--${flag}: unsupported scheme "${protocol}" (use ${Object.keys(kinds).join(' or ')})`);
  return kind;
}

export function selectStore(options: Options, logger: Logger): Store {
  const kind = options.databaseUrl === undefined ? 'sqlite' : schemeOf('database-url', options.databaseUrl, { 'postgres:': 'postgres', 'postgresql:': 'postgres' });
  switch (kind) {
    case 'sqlite': {
      if (options.sqliteSync !== 'full' && options.sqliteSync !== 'normal') throw new OptionError('--sqlite-sync takes full or normal');
      mkdirSync(options.dataDir, { recursive: true });
      return new SqliteWorkerStore({ file: join(options.dataDir, 'courier.db'), synchronous: options.sqliteSync });
    }
    case 'postgres':
      return new PostgresStore({ connectionString: options.databaseUrl!, onIdleError: (err) => logger.error({ err }, 'idle PostgreSQL connection failed') });
    default:
      throw new OptionError(`unknown store "${kind}"`);
  }
}

export function selectBus(options: Options, nodeId: string, logger: Logger, onBusError: () => void = () => {}): { bus: Bus; limiter: RateLimiter } {
  const kind = options.redisUrl === undefined ? 'memory' : schemeOf('redis-url', options.redisUrl, { 'redis:': 'redis', 'rediss:': 'redis' });
  switch (kind) {
    case 'memory':
      return { bus: new MemoryBus(), limiter: new MemoryRateLimiter() };
    case 'redis':
      return {
        bus: new RedisBus({ url: options.redisUrl!, nodeId, keyPrefix: options.redisPrefix, onError: (err: Error) => {
            onBusError();
            logger.error({ err }, 'redis bus error');
          },
        }),
        limiter: new RedisRateLimiter({
          url: options.redisUrl!,
          keyPrefix: `${options.redisPrefix}rate:`,
          onError: (err: Error) => {
            onBusError();
            logger.error({ err }, 'redis rate limiter error');
          },
        }),
      };
    default:
      throw new OptionError(`unknown bus "${kind}"`);
  }
}

export function selectSms(options: Options): SmsProvider {
  if (options.smsOutbox !== undefined && options.smsWebhook !== undefined) {
    throw new OptionError('choose one SMS provider: --sms-outbox or --sms-webhook');
  }
  if (options.smsOutbox !== undefined) return new FileSmsProvider(options.smsOutbox);
  if (options.smsWebhook !== undefined) return new WebhookSmsProvider(options.smsWebhook);
  return new ConsoleSmsProvider();
}
