/** `courier serve` serves the prebuilt web client at `/`, and `--no-web` leaves only the API. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CourierServer } from './support/courier-server.js';

describe('serving the web client', () => {
  let withWeb: CourierServer;
  let apiOnly: CourierServer;

  before(async () => {
    [withWeb, apiOnly] = await Promise.all([CourierServer.start(), CourierServer.start(['--no-web'])]);
  });

  after(async () => {
    await Promise.all([withWeb?.stop(), apiOnly?.stop()]);
  });

  it('answers / with the app, revalidated, and its hashed assets cached for good', async () => {
    const page = await fetch(`${withWeb.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    assert.match(html, /<div id="app">/);
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html);
    assert.ok(script, `no script in ${html}`);
    const asset = await fetch(`${withWeb.url}/${script[1]}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  });

  it('keeps API errors as JSON next to the app', async () => {
    const missing = await fetch(`${withWeb.url}/v1/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
  });

  it('with --no-web answers / with not_found and still serves the API', async () => {
    const page = await fetch(`${apiOnly.url}/`);
    assert.equal(page.status, 404);
    assert.equal(((await page.json()) as { error: { code: string } }).error.code, 'not_found');
    assert.equal((await fetch(`${apiOnly.url}/healthz`)).status, 200);
  });
});
