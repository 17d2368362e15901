import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchArgs, scenarioNames, UsageError } from '../src/options.js';

test('defaults run every scenario with durable commits', () => {
  const options = parseBenchArgs([]);
  assert.deepEqual(options.only, [...scenarioNames]);
  assert.equal(options.sqliteSync, 'full');
  assert.equal(options.sockets, 19_000);
  assert.equal(options.drainMessages, 100_000);
  assert.equal(options.groupSize, 1000);
  assert.equal(options.mediaMib, 50);
  assert.equal(options.profile, false);
});

test('--only keeps the canonical order; sizes, lists and flags parse', () => {
  const options = parseBenchArgs(['--only', 'latency,throughput', '--pairs=20', '--windows', '8,32', '--profile', '--sockets', '1_000']);
  assert.deepEqual(options.only, ['throughput', 'latency']);
  assert.equal(options.pairs, 20);
  assert.deepEqual(options.windows, [8, 32]);
  assert.equal(options.profile, true);
  assert.equal(options.sockets, 1000);
});

test('the soak runs 10 minutes unless told otherwise', () => {
  assert.equal(parseBenchArgs([]).soakDurationS, 600);
  const options = parseBenchArgs(['--only', 'soak', '--soak-duration', '90', '--soak-interval=15']);
  assert.deepEqual(options.only, ['soak']);
  assert.equal(options.soakDurationS, 90);
  assert.equal(options.soakIntervalS, 15);
});

test('bad input is a usage error', () => {
  assert.throws(() => parseBenchArgs(['--only', 'everything']), UsageError);
  assert.throws(() => parseBenchArgs(['--pairs', '-3']), UsageError);
  assert.throws(() => parseBenchArgs(['--pairs']), UsageError);
  assert.throws(() => parseBenchArgs(['--nope']), UsageError);
  assert.throws(() => parseBenchArgs(['--sqlite-sync', 'off']), UsageError);
  assert.throws(() => parseBenchArgs(['throughput']), UsageError);
});
