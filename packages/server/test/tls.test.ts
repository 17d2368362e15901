import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { lastCode, newPhone } from './support/registration.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import { WsClient } from './support/ws-client.js';

/** One HTTPS request that trusts `ca` only (never rejectUnauthorized: false). */
function httpsJson(url: string, ca: Buffer | undefined, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      { method, ...(ca && { ca }), headers: payload === undefined ? {} : { 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('TLS: HTTPS and WSS with --tls-cert and --tls-key', () => {
  let dir: string;
  let ca: Buffer;
  let t: TestNode;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'courier-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    // A self-signed certificate for this run only, valid for the address the node listens on.
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    ca = await readFile(cert);
    // The loop lag alert is off: a loaded test machine must not make /healthz degraded.
    t = await startTestNode(['--tls-cert', cert, '--tls-key', key, '--alert-loop-lag', '0']);
  });
  after(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS at an https:// URL', async () => {
    assert.match(t.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await httpsJson(`${t.url}/healthz`, ca), { status: 200, body: { status: 'ok' } });
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await assert.rejects(httpsJson(`${t.url}/healthz`, undefined), /self-signed|self signed/i);
  });

  it('registers over HTTPS, then authenticates, gets ready and pings over WSS', async () => {
    const phone = newPhone();
    assert.equal((await httpsJson(`${t.url}/v1/register/request`, ca, 'POST', { phone })).status, 202);
    const code = await lastCode(t.smsFile, phone);
    const verified = await httpsJson(`${t.url}/v1/register/verify`, ca, 'POST', { phone, code });
    assert.equal(verified.status, 200);
    const { userId, token } = verified.body as { userId: string; token: string };

    assert.match(t.wsUrl, /^wss:\/\//);
    const client = new WsClient(new WebSocket(t.wsUrl, { ca }));
    await client.opened;
    client.send({ type: 'auth', token });
    const ready = await client.next();
    assert.equal(ready.type, 'ready');
    assert.equal(ready.userId, userId);
    client.send({ type: 'ping' });
    assert.deepEqual(await client.next(), { type: 'pong' });
    await client.close();
  });

  it('does not speak plain WebSocket on the TLS port', async () => {
    const plain = new WsClient(new WebSocket(t.wsUrl.replace(/^wss:/, 'ws:')));
    await assert.rejects(plain.opened);
  });
});
