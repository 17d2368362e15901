import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryOf, summariseProfile, type CpuProfile } from '../src/cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// (root) → main → [flush → (native) run], main → handle; plus (idle) and (garbage collector).
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('main', 'file:///srv/packages/server/dist/src/wiring/start-node.js', 9), children: [3, 7] },
    { id: 3, callFrame: frame('flush', 'file:///srv/packages/server/dist/src/adapters/store/sqlite/sqlite-group-commit.js', 50), children: [4] },
    { id: 4, callFrame: frame('run') },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('send', 'file:///srv/node_modules/ws/lib/websocket.js', 475) },
  ],
  startTime: 0,
  endTime: 100_000,
  // Each delta is the time since the previous sample.
  samples: [4, 4, 3, 7, 5, 5, 6],
  timeDeltas: [10_000, 10_000, 10_000, 10_000, 20_000, 20_000, 20_000],
};

test('self time, inclusive time and categories leave idle time out of the percentages', () => {
  const summary = summariseProfile(profile);
  assert.equal(summary.totalMs, 100);
  assert.equal(summary.busyMs, 60);
  const self = Object.fromEntries(summary.topSelf.map((e) => [e.name, e.ms]));
  assert.deepEqual(self, {
    run: 20,
    '(garbage collector)': 20,
    'flush server/dist/src/adapters/store/sqlite/sqlite-group-commit.js:51': 10,
    'send ws/lib/websocket.js:476': 10,
  });
  const total = Object.fromEntries(summary.topTotal.map((e) => [e.name, e.ms]));
  assert.equal(total['main server/dist/src/wiring/start-node.js:10'], 40);
  assert.equal(total['flush server/dist/src/adapters/store/sqlite/sqlite-group-commit.js:51'], 30);
  assert.equal(summary.topSelf.find((e) => e.name === 'run')!.percent, 33.3);
  assert.ok(!summary.topSelf.some((e) => e.name === '(idle)'));
});

test('categories name the package, the server folder, node core or the runtime', () => {
  assert.equal(categoryOf(frame('x', 'file:///a/node_modules/@fastify/ajv-compiler/index.js')), 'npm: @fastify/ajv-compiler');
  assert.equal(categoryOf(frame('x', 'file:///a/node_modules/ws/lib/sender.js')), 'npm: ws');
  assert.equal(categoryOf(frame('x', 'node:internal/streams/writable')), 'node core: internal');
  assert.equal(categoryOf(frame('x', 'file:///a/packages/server/dist/src/session/session.js')), 'courier server: session');
  assert.equal(categoryOf(frame('(garbage collector)')), '(garbage collector)');
  assert.match(categoryOf(frame('writev')), /^native code/);
});
