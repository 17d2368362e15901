/**
 * Limits against abuse that a user can hit: sends in flight per connection, the HTTP rate limit
 * on every route (shared by the nodes of a cluster), the idle timeout of HTTP connections, and
 * /metrics moved to a port of its own.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deploy, type Deployment } from './support/deployment.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import type { Frame } from './support/ws-client.js';

describe('sends in flight per connection', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--max-sends-in-flight', '4']);
  });
  after(() => t.stop());

  it('refuses sends past the bound with too_many_in_flight, and every send is answered once', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    const ids = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    for (const id of ids) alice.client.send({ type: 'send', id, to: bob.account.userId, body: id });
    const answers = new Map<string, Frame>();
    while (answers.size < ids.length) {
      const answer = await alice.client.next((f) => f.type === 'sent' || f.type === 'error');
      const id = (answer.id ?? answer.ref) as string;
      assert.ok(!answers.has(id), `one answer per send (${id} twice)`);
      answers.set(id, answer);
    }
    const refused = [...answers.values()].filter((f) => f.type === 'error');
    const sent = ids.filter((id) => answers.get(id)!.type === 'sent');
    assert.ok(refused.length > 0, 'a burst past the bound is refused in part');
    assert.ok(refused.every((f) => f.code === 'too_many_in_flight' && typeof f.message === 'string'));

    alice.client.send({ type: 'send', id: 'marker', to: bob.account.userId, body: 'marker' });
    const delivered = await bob.client.before((f) => f.type === 'message' && f.body === 'marker');
    assert.deepEqual(
      delivered.filter((f) => f.type === 'message').map((f) => f.body),
      sent,
      'exactly the sends answered sent are delivered, in order; the refused ones are not',
    );
  });
});

describe('HTTP rate limit across two nodes', () => {
  let d: Deployment;
  before(async () => {
    d = await deploy('two nodes', ['--http-rate', '6']);
  });
  after(() => d.stop());

  it('counts the requests of one address on every route and every node together', async () => {
    const statuses: number[] = [];
    for (const [node, path] of [[d.first, '/healthz'], [d.second, '/v1/groups'], [d.first, '/readyz'], [d.second, '/healthz'], [d.first, '/v1/blocks'], [d.second, '/healthz']] as const) {
      statuses.push((await fetch(`${node.url}${path}`)).status);
    }
    assert.deepEqual(statuses, [200, 401, 200, 200, 401, 200]);
    const limited = await fetch(`${d.first.url}/healthz`);
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as any).error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });
});

describe('a slow HTTP client', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--idle-timeout', '1']);
  });
  after(() => t.stop());

  it('is disconnected when it stops sending mid-upload, and its temporary file is removed', async () => {
    const { account } = await t.connectNew();
    const { port } = new URL(t.url);
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /v1/media HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${account.token}\r\n` +
        'Content-Type: image/png\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000),
    );
    const tmp = join(t.dataDir, 'media', 'tmp');
    while ((await readdir(tmp)).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // The client now says nothing more; the server must not wait for it for ever.
    await new Promise((resolve) => socket.once('close', resolve));
    while ((await readdir(tmp)).length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  });
});

describe('/metrics on a port of its own', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--metrics-port', '0']);
  });
  after(() => t.stop());

  it('serves /metrics on --metrics-port only', async () => {
    assert.ok(t.node.metricsUrl);
    const metrics = await fetch(t.node.metricsUrl);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /# TYPE /);
    const main = await fetch(`${t.url}/metrics`);
    assert.equal(main.status, 404);
  });
});
