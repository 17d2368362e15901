import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionError, type Options } from '../config/options.js';
import { LocalDiskBlobStore } from '../adapters/blob/local-disk/local-disk-blob-store.js';
import { PostgresBlobStore } from '../adapters/blob/postgres/postgres-blob-store.js';
import { isClusterUrl, parseClusterUrl } from '../adapters/redis-connection.js';
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
import type { BlobStore } from '../ports/blob-store.js';
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

/**
 * Media: `--media-url` when given; else the cluster's PostgreSQL when there is one (nodes then
 * need no shared disk); else files in the data dir.
 */
export function selectBlobStore(options: Options, logger: Logger): { blobs: BlobStore; kind: string } {
  const kind =
    options.mediaUrl !== undefined
      ? schemeOf('media-url', options.mediaUrl, { 'file:': 'local-disk', 'postgres:': 'postgres', 'postgresql:': 'postgres', 's3:': 's3' })
      : options.databaseUrl !== undefined
        ? 'postgres'
        : 'local-disk';
  switch (kind) {
    case 'local-disk':
      return { kind, blobs: new LocalDiskBlobStore(options.mediaUrl === undefined ? join(options.dataDir, 'media') : fileURLToPath(options.mediaUrl)) };
    case 'postgres': {
      const connectionString = options.mediaUrl ?? options.databaseUrl!;
      return { kind, blobs: new PostgresBlobStore({ connectionString, onError: (err) => logger.error({ err }, 'PostgreSQL media store error') }) };
    }
    case 's3':
      throw new OptionError('--media-url: s3:// is not available yet; use postgres://... or file:///path (see docs/scaling.md on when to move media to an object store)');
    default:
      throw new OptionError(`unknown media store "${kind}"`);
  }
}

/** A single Redis (`redis://`, `rediss://`) or a Redis Cluster (`redis+cluster://h:p,h:p`): the same adapters serve both. */
function redisKind(url: string): string {
  if (!isClusterUrl(url)) return schemeOf('redis-url', url, { 'redis:': 'redis', 'rediss:': 'redis' });
  try {
    parseClusterUrl(url);
  } catch (err) {
    throw new OptionError(`--redis-url: ${(err as Error).message}`);
  }
  return 'redis';
}

export function selectBus(options: Options, nodeId: string, logger: Logger, onBusError: () => void = () => {}): { bus: Bus; limiter: RateLimiter } {
  const kind = options.redisUrl === undefined ? 'memory' : redisKind(options.redisUrl);
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
