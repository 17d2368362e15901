import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import { lastCode, newPhone, postJson } from './support/registration.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import { WsClient } from './support/ws-client.js';

describe('registration', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(() => t.stop());

  it('sends a 6-digit code and verifies it for a token', async () => {
    const phone = newPhone();
    const requested = await postJson(`${t.url}/v1/register/request`, { phone });
    assert.equal(requested.status, 202);
    assert.equal(requested.body.expiresIn, 600);
    const code = await lastCode(t.smsFile, phone);
    assert.match(code, /^\d{6}$/);
    const verified = await postJson(`${t.url}/v1/register/verify`, { phone, code });
    assert.equal(verified.status, 200);
    assert.equal(verified.body.userId, phone);
    assert.ok(verified.body.token.length >= 43, 'token carries at least 32 random bytes');
  });

  for (const phone of ['5551234567', '+123', '+1555123456789012', '+1555abc4567', 42, null, undefined]) {
    it(`refuses the phone ${JSON.stringify(phone)} with invalid_phone`, async () => {
      const response = await postJson(`${t.url}/v1/register/request`, phone === undefined ? {} : { phone });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'invalid_phone');
      assert.equal(typeof response.body.error.message, 'string');
    });
  }

  it('answers a body that is not JSON with a coded 400', async () => {
    const response = await fetch(`${t.url}/v1/register/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as any).error.code, 'invalid_json');
  });

  it('refuses a wrong code and burns the code after 5 wrong tries', async () => {
    const phone = newPhone();
    await postJson(`${t.url}/v1/register/request`, { phone });
    const code = await lastCode(t.smsFile, phone);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const response = await postJson(`${t.url}/v1/register/verify`, { phone, code: wrong });
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'invalid_code');
      // The sentence tells a person how many tries are left, and when the code is gone.
      assert.match(response.body.error.message, i < 4 ? new RegExp(`wrong; ${4 - i} tr(y|ies) left`) : /last try: the code is burnt; request a new one/);
    }
    const burnt = await postJson(`${t.url}/v1/register/verify`, { phone, code });
    assert.equal(burnt.status, 401, 'the right code no longer works once burnt');
    assert.match(burnt.body.error.message, /No code is waiting .*request a new one/);
  });

  it('refuses a verify without a pending code', async () => {
    const response = await postJson(`${t.url}/v1/register/verify`, { phone: newPhone(), code: '123456' });
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'invalid_code');
  });

  it('limits code requests per phone with 429 and Retry-After', async () => {
    const phone = newPhone();
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 8; i++) {
      const response = await postJson(`${t.url}/v1/register/request`, { phone });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    assert.deepEqual(statuses.slice(0, 5), [202, 202, 202, 202, 202]);
    assert.ok(limited, `expected a 429 among ${statuses}`);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });

  it('re-registration revokes the old token at once and keeps the inbox', async () => {
    const sender = await t.connectNew();
    const phone = newPhone();
    const first = await t.register(phone);
    const oldDevice = await t.connect(first);
    sender.client.send({ type: 'send', id: 'kept-1', to: phone, body: 'for whichever device' });
    await sender.client.next((f) => f.type === 'sent');
    await oldDevice.next((f) => f.type === 'message');

    const second = await t.register(phone);
    assert.notEqual(second.token, first.token);
    assert.equal((await oldDevice.closed).code, 4001);

    const reused = await WsClient.open(t.wsUrl);
    reused.send({ type: 'auth', token: first.token });
    assert.equal((await reused.closed).code, 4001, 'the old token no longer authenticates');

    const newDevice = await t.connect(second);
    const kept = await newDevice.next((f) => f.type === 'message');
    assert.equal(kept.id, 'kept-1');
    assert.equal(kept.body, 'for whichever device');
  });
});

describe('registration with short codes and tight limits', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode(['--code-ttl', '1', '--code-requests-per-address', '3']);
  });
  after(() => t.stop());

  it('refuses an expired code', async () => {
    const phone = newPhone();
    await postJson(`${t.url}/v1/register/request`, { phone });
    const code = await lastCode(t.smsFile, phone);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const response = await postJson(`${t.url}/v1/register/verify`, { phone, code });
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'invalid_code');
  });

  it('limits registration calls per client address', async () => {
    let response;
    for (let i = 0; i < 5; i++) response = await postJson(`${t.url}/v1/register/request`, { phone: newPhone() });
    assert.equal(response!.status, 429);
    assert.equal(response!.body.error.code, 'rate_limited');
    assert.ok(Number(response!.headers.get('retry-after')) > 0);
  });
});

describe('registration code guessing from many addresses', () => {
  let t: TestNode;
  before(async () => {
    // Behind a trusted proxy the client address comes from X-Forwarded-For: one test, many addresses.
    t = await startTestNode(['--trust-proxy', '--code-verifies-per-phone', '3']);
  });
  after(() => t.stop());

  it('limits verifications per phone, whatever the address', async () => {
    const phone = newPhone();
    await postJson(`${t.url}/v1/register/request`, { phone });
    const code = await lastCode(t.smsFile, phone);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await postJson(`${t.url}/v1/register/verify`, { phone, code: '' }, { 'x-forwarded-for': `198.51.100.${i}` })).status);
    }
    const limited = await postJson(`${t.url}/v1/register/verify`, { phone, code }, { 'x-forwarded-for': '198.51.100.99' });
    assert.deepEqual(statuses, [401, 401, 401]);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });

  it('stores the code hash keyed with the server secret, never a plain hash of the code', async () => {
    const phone = newPhone();
    await postJson(`${t.url}/v1/register/request`, { phone });
    const code = await lastCode(t.smsFile, phone);
    const db = new Database(join(t.dataDir, 'courier.db'), { readonly: true });
    try {
      const stored = db.prepare('SELECT code_hash FROM codes WHERE phone = ?').pluck().get(phone);
      const key = db.prepare("SELECT value FROM server_secrets WHERE name = 'registration-code-key'").pluck().get() as string;
      assert.ok(key.length >= 32, 'a key of 32 random bytes was made on first start');
      assert.notEqual(stored, createHash('sha256').update(`${phone}:${code}`).digest('hex'));
      assert.equal(stored, createHmac('sha256', key).update(`${phone}:${code}`).digest('hex'));
    } finally {
      db.close();
    }
  });
});
