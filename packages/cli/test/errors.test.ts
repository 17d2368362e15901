/**
 * Errors a person understands: a server that is down, a URL without a scheme, a server that is not
 * Courier. Each names the URL and the cause at once; none prints a web page.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCourier, show } from './support/cli.js';

let home = '';
let htmlServer: Server;
let htmlUrl = '';
let downUrl = '';

/** A profile as `register` writes it, so the commands get as far as talking to the server. */
async function profile(name: string, server: string): Promise<void> {
  await writeFile(join(home, `${name}.json`), JSON.stringify({ server, userId: '+15550000001', token: 'x'.repeat(43), phone: '+15550000001', registeredAt: 0 }), { mode: 0o600 });
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'courier-cli-test-errors-'));
  await mkdir(home, { recursive: true });
  // Some other web server: every answer is an HTML page.
  htmlServer = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'text/html' });
    response.end('<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>');
  });
  await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', resolve));
  htmlUrl = `http://127.0.0.1:${(htmlServer.address() as AddressInfo).port}`;
  // A port nothing listens on: bind one, note it, close it.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  downUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
  await profile('down', downUrl);
  await profile('html', htmlUrl);
});

after(async () => {
  htmlServer?.close();
  await rm(home, { recursive: true, force: true });
});

const env = () => ({ COURIER_HOME: home });

test('a server that is down: the URL and "connection refused" at once, over HTTP and over the socket', { timeout: 30_000 }, async () => {
  const register = await runCourier(['register', '+15550000001', '--server', downUrl], { env: env(), cwd: home });
  assert.equal(register.code, 1, show(register));
  assert.match(register.stderr, new RegExp(`cannot reach ${downUrl}: connect ECONNREFUSED .*: is the server running, on this port\\?`));

  const send = await runCourier(['send', '+15550000002', 'hi', '--profile', 'down'], { env: env(), cwd: home });
  assert.equal(send.code, 1, show(send));
  assert.match(send.stderr, new RegExp(`cannot connect to ${downUrl}: connection refused .*is the server running`));
  assert.doesNotMatch(send.stderr, /within/, 'the first refusal is reported, not a timeout after retries');
});

test('a URL without a scheme is explained, exit 2', { timeout: 20_000 }, async () => {
  const result = await runCourier(['register', '+15550000001', '--server', '127.0.0.1:8080'], { env: env(), cwd: home });
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /"127\.0\.0\.1:8080" is not a server URL: it needs a scheme, e\.g\. http:\/\/127\.0\.0\.1:8080/);
});

test('a server that is not Courier: said so, and its HTML page is not printed', { timeout: 30_000 }, async () => {
  const register = await runCourier(['register', '+15550000001', '--server', htmlUrl], { env: env(), cwd: home });
  assert.equal(register.code, 1, show(register));
  assert.match(register.stderr, new RegExp(`HTTP 404 Not Found \\(text/html\\), not a Courier error: is ${htmlUrl} a Courier server\\?`));
  const send = await runCourier(['send', '+15550000002', 'hi', '--profile', 'html'], { env: env(), cwd: home });
  assert.equal(send.code, 1, show(send));
  assert.match(send.stderr, /answered the WebSocket upgrade with HTTP 404: is it a Courier server/);
  for (const result of [register, send]) assert.doesNotMatch(result.stderr + result.stdout, /<html|nginx/i);
});
