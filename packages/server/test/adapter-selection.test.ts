import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusterUrl } from '../src/adapters/redis-connection.js';
import { OptionError, parseOptions } from '../src/config/options.js';
import { createLogger } from '../src/observability/logger.js';
import { selectBlobStore, selectBus } from '../src/wiring/select-adapters.js';

const logger = createLogger('fatal', 'selection-test');

describe('choosing the media store', () => {
  const kindFor = async (args: string[]) => {
    const { blobs, kind } = selectBlobStore(parseOptions(args, {}), logger);
    await blobs.close();
    return kind;
  };

  it('keeps media in the data dir on one node, and in PostgreSQL once there is a database', async () => {
    assert.equal(await kindFor([]), 'local-disk');
    assert.equal(await kindFor(['--database-url', 'postgres://db.internal/courier']), 'postgres');
    assert.equal(await kindFor(['--database-url', 'postgres://db.internal/courier', '--media-url', 'file:///mnt/media']), 'local-disk');
    assert.equal(await kindFor(['--media-url', 'postgresql://media.internal/blobs']), 'postgres');
  });

  it('names s3:// as not available yet, and refuses an unknown scheme or a non-URL', () => {
    assert.throws(() => selectBlobStore(parseOptions(['--media-url', 's3://bucket/media'], {}), logger), (err: unknown) => {
      assert.ok(err instanceof OptionError);
      assert.match(err.message, /s3:\/\/ is not available yet/);
      return true;
    });
    assert.throws(() => selectBlobStore(parseOptions(['--media-url', 'ftp://host/x'], {}), logger), /--media-url: unsupported scheme "ftp:"/);
    assert.throws(() => selectBlobStore(parseOptions(['--media-url', '/mnt/media'], {}), logger), /--media-url: "\/mnt\/media" is not a URL/);
  });
});

describe('Redis Cluster URLs', () => {
  it('reads seeds, credentials and TLS', () => {
    assert.deepEqual(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001'), {
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
      tls: false,
    });
    assert.deepEqual(parseClusterUrl('rediss+cluster://courier:p%40ss@redis-a,[::1]:7002/'), {
      nodes: [{ host: 'redis-a', port: 6379 }, { host: '::1', port: 7002 }],
      username: 'courier',
      password: 'p@ss',
      tls: true,
    });
  });

  it('refuses a malformed one with the form it expects, before connecting', () => {
    for (const url of ['redis+cluster://', 'redis+cluster://h:70000', 'redis+cluster://h:1,,h:2', 'redis+cluster://h:1/0', 'redis+cluster://h:1?tls=1']) {
      assert.throws(() => selectBus(parseOptions(['--redis-url', url], {}), 'n1', logger), (err: unknown) => {
        assert.ok(err instanceof OptionError, url);
        assert.match(err.message, /^--redis-url: /);
        return true;
      }, url);
    }
  });
});
