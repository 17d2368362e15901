/** `courier register` against a real server, the code typed on stdin as a person would. */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show } from './support/cli.js';
import { CourierServer } from './support/server.js';
import { Terminal, newPhone } from './support/terminal.js';

let server: CourierServer;
const terminals: Terminal[] = [];

async function terminal(): Promise<Terminal> {
  const t = await Terminal.open(server);
  terminals.push(t);
  return t;
}

/** A code of the same length that is surely not `code`. */
function wrong(code: string): string {
  return code.replace(/^./, (d) => String((Number(d) + 1) % 10));
}

async function smsCount(phone: string): Promise<number> {
  const text = await readFile(server.smsOutbox, 'utf8');
  return text.split('\n').filter((line) => line.includes(`"${phone}"`)).length;
}

before(async () => {
  server = await CourierServer.start();
});

after(async () => {
  await Promise.all(terminals.map((t) => t.close()));
  await server.dispose();
});

test('register asks for the code on stdin, retries a wrong one, and saves a private profile', { timeout: 30_000 }, async () => {
  const alice = await terminal();
  const phone = newPhone();
  const child = alice.start(['register', phone, '--profile', 'alice']);
  await child.waitFor('stdout', /^a code was sent to \+\d+; it is valid for 10 min\ncode: $/);
  const code = await server.codeFor(phone);

  child.write(`${wrong(code)}\n`);
  await child.waitFor('stdout', /the code was not accepted \(.+\); try again\ncode: $/);
  child.write(`${code}\n`);
  const result = await child.exited;
  assert.equal(result.code, 0, show(result));

  const path = join(alice.courierHome, 'alice.json');
  assert.ok(result.stdout.endsWith(`registered ${phone} on ${server.url} (profile "alice", ${path})\n`), show(result));
  assert.equal((await stat(path)).mode & 0o777, 0o600, 'the profile holds the token: owner-only');
  assert.equal((await stat(alice.courierHome)).mode & 0o777, 0o700);
  const profile = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  assert.equal(profile.userId, phone);
  assert.equal(profile.phone, phone);
  assert.equal(profile.server, server.url);
  assert.match(String(profile.token), /^\S{20,}$/);
});

test('register with stdin closed says how to finish; --code then finishes without a new SMS', { timeout: 30_000 }, async () => {
  const bob = await terminal();
  const phone = newPhone();
  const first = await bob.run(['register', phone, '--profile', 'bob']);
  assert.equal(first.code, 1, show(first));
  assert.match(first.stderr, new RegExp(`no code was typed .*courier register \\${phone} --profile bob --code <code>`));

  const code = await server.codeFor(phone);
  const sent = await smsCount(phone);
  const second = await bob.run(['register', phone, '--profile', 'bob', '--code', code]);
  assert.equal(second.code, 0, show(second));
  assert.match(second.stdout, new RegExp(`^registered \\${phone} on `));
  assert.equal(await smsCount(phone), sent, '--code must not ask for another code (it would void the one given)');
  assert.equal((await stat(join(bob.courierHome, 'bob.json'))).mode & 0o777, 0o600);
});

test('a wrong --code exits 1 with the server message and writes no profile', { timeout: 30_000 }, async () => {
  const carol = await terminal();
  const phone = newPhone();
  await carol.run(['register', phone, '--profile', 'carol']);
  const result = await carol.run(['register', phone, '--profile', 'carol', '--code', wrong(await server.codeFor(phone))]);
  assert.equal(result.code, 1, show(result));
  assert.match(result.stderr, /^courier register: The code is wrong; 4 tries left/);
  await assert.rejects(stat(join(carol.courierHome, 'carol.json')), { code: 'ENOENT' });
});

test('an empty line at the prompt is not a try; a burnt code says so and how to get a new one', { timeout: 30_000 }, async () => {
  const dave = await terminal();
  const phone = newPhone();
  const child = dave.start(['register', phone, '--profile', 'dave']);
  await child.waitFor('stdout', /code: $/);
  const code = await server.codeFor(phone);
  // Enter pressed too soon, then three wrong codes: the CLI gives up after its 3 tries...
  child.write(`\n   \n${wrong(code)}\n${wrong(code)}\n${wrong(code)}\n`);
  const first = await child.exited;
  assert.equal(first.code, 1, show(first));
  assert.equal(first.stdout.match(/not accepted/g)?.length, 2, `the empty lines counted as tries\n${show(first)}`);
  assert.match(first.stdout, /wrong; 4 tries left/, 'the empty lines never reached the server');
  // ...and two more with --code burn it on the server, which the person is told in plain words.
  await dave.run(['register', phone, '--profile', 'dave', '--code', wrong(code)]);
  const burnt = await dave.run(['register', phone, '--profile', 'dave', '--code', wrong(code)]);
  assert.equal(burnt.code, 1, show(burnt));
  assert.match(burnt.stderr, new RegExp(`last try: the code is burnt\\. For a new code, run "courier register \\${phone} --profile dave" again\\.`));
});

test('registering the phone on another terminal revokes the running listen of the first', { timeout: 40_000 }, async () => {
  const [laptop, phoneTerminal] = [await terminal(), await terminal()];
  const phone = newPhone();
  await laptop.register(phone, 'me');
  const listen = await laptop.listen('me');
  await phoneTerminal.register(phone, 'me');
  const result = await listen.exited;
  assert.equal(result.code, 1, show(result));
  assert.match(result.stderr, new RegExp(`courier listen: this device's token was refused: the phone was registered again elsewhere .*Run "courier register \\${phone} --profile me" to use it here again`));

  // An HTTP command with the dead token says the same.
  const groups = await laptop.run(['group', 'list', '--profile', 'me']);
  assert.equal(groups.code, 1, show(groups));
  assert.match(groups.stderr, /registered again elsewhere/);
});
