import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newServerId } from '../src/domain/server-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a serverId is a UUID version 7 that starts with its time in ms', () => {
  const now = Date.UTC(2026, 11, 4, 14, 30);
  const id = newServerId(now);
  assert.match(id, UUID_V7);
  assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
});

test('serverIds of later milliseconds sort after earlier ones, and two of one millisecond differ', () => {
  const now = Date.now();
  const ids = [newServerId(now), newServerId(now + 1), newServerId(now + 1000), newServerId(now + 86_400_000)];
  assert.deepEqual([...ids].sort(), ids);
  assert.notEqual(newServerId(now), newServerId(now));
});
