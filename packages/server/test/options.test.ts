import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { OptionError, envName, optionSpecs, parseOptions } from '../src/config/options.js';

describe('server options', () => {
  it('has the contract\'s defaults', () => {
    const options = parseOptions([], {});
    assert.equal(options.port, 8080);
    assert.equal(options.host, '127.0.0.1');
    assert.equal(options.dataDir, './data');
    assert.equal(options.noRateLimits, false);
    assert.equal(options.databaseUrl, undefined);
  });

  it('reads flags in both spellings, and flags win over COURIER_* variables', () => {
    const options = parseOptions(['--port', '9000', '--data-dir=/x', '--no-rate-limits'], { COURIER_PORT: '7000', COURIER_SMS_OUTBOX: 'sms.jsonl' });
    assert.equal(options.port, 9000);
    assert.equal(options.dataDir, '/x');
    assert.equal(options.noRateLimits, true);
    assert.equal(options.smsOutbox, 'sms.jsonl');
  });

  it('takes every option from its COURIER_<FLAG> variable', () => {
    const options = parseOptions([], { COURIER_NO_RATE_LIMITS: '1', COURIER_DATABASE_URL: 'postgres://db', COURIER_REDIS_URL: 'redis://r', COURIER_PORT: '0' });
    assert.equal(options.noRateLimits, true);
    assert.equal(options.databaseUrl, 'postgres://db');
    assert.equal(options.redisUrl, 'redis://r');
    assert.equal(options.port, 0);
    assert.equal(envName('sms-outbox'), 'COURIER_SMS_OUTBOX');
  });

  it('turns a boolean that defaults to on off with --no-<flag>, and refuses --no- of an unknown flag', () => {
    assert.equal(parseOptions([], {}).web, true);
    assert.equal(parseOptions(['--no-web'], {}).web, false);
    assert.equal(parseOptions(['--no-web', '--no-rate-limits'], {}).noRateLimits, true);
    assert.throws(() => parseOptions(['--no-bogus'], {}), OptionError);
  });

  it('refuses unknown flags and ill-typed values with a sentence', () => {
    assert.throws(() => parseOptions(['--prot', '1'], {}), OptionError);
    assert.throws(() => parseOptions(['--port', 'eighty'], {}), /whole number/);
    assert.throws(() => parseOptions(['--port'], {}), /needs a value/);
    assert.throws(() => parseOptions([], { COURIER_NO_RATE_LIMITS: 'maybe' }), /true or false/);
  });

  it('documents every option in the README', async () => {
    const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');
    for (const spec of optionSpecs) {
      assert.ok(readme.includes(`\`--${spec.flag}`), `README lacks --${spec.flag}`);
      assert.ok(readme.includes(envName(spec.flag)), `README lacks ${envName(spec.flag)}`);
    }
  });
});
