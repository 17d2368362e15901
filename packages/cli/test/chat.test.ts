/**
 * `courier chat`: one connection that shows the conversation and sends what is typed, its ticks
 * following each message. Typed through a pipe (each tick change printed again as a line) and,
 * where `script` can give it a pseudo-terminal, at a terminal (the line rewritten in place).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { courierBin, show, startCourier, type CliProcess } from './support/cli.js';
import { CourierServer } from './support/server.js';
import { Terminal, newPhone } from './support/terminal.js';

let server: CourierServer;
let alice: Terminal;
let bob: Terminal;
const [alicePhone, bobPhone] = [newPhone(), newPhone()];
const running: CliProcess[] = [];

before(async () => {
  server = await CourierServer.start();
  [alice, bob] = [await Terminal.open(server), await Terminal.open(server)];
  await alice.register(alicePhone, 'alice');
  await bob.register(bobPhone, 'bob');
});

after(async () => {
  await Promise.all(running.map((c) => c.stop()));
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.dispose();
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('chat sends what is typed, shows ticks as they come, and shows the peer\'s messages', { timeout: 60_000 }, async () => {
  const bobListen = await bob.listen('bob', ['--read']);
  running.push(bobListen);
  const chat = alice.start(['chat', bobPhone, '--profile', 'alice'], { deadlineMs: 50_000 });
  running.push(chat);
  await chat.waitFor('stdout', new RegExp(`chatting with ${escape(bobPhone)} as ${escape(alicePhone)}`));

  chat.write('hello bob\n');
  await chat.waitFor('stdout', /you: hello bob {2}✓$/m);
  await bobListen.waitFor('stdout', new RegExp(`message from ${escape(alicePhone)}: hello bob`));
  await chat.waitFor('stdout', /you: hello bob {2}✓✓ read$/m);

  chat.write('\n   \nnobody is here\n');
  await chat.waitFor('stdout', /you: nobody is here {2}✓/);
  assert.equal(chat.stdout.match(/you: {2}/g), null, 'empty lines are not sent');

  await bobListen.stop();
  const reply = await bob.run(['send', alicePhone, 'hi alice', '--profile', 'bob']);
  assert.equal(reply.code, 0, show(reply));
  await chat.waitFor('stdout', new RegExp(`${escape(bobPhone)}: hi alice$`, 'm'));
  assert.match((await bob.run(['send', alicePhone, 'are you there', '--profile', 'bob'])).stdout, /delivered by/, 'the chat acks what it shows');

  chat.write('/quit\n');
  const result = await chat.exited;
  assert.equal(result.code, 0, show(result));
});

test('chat in a group: the message reaches the members, refusals are shown on the line', { timeout: 60_000 }, async () => {
  const created = await alice.run(['group', 'create', 'Pair', bobPhone, '--profile', 'alice']);
  const groupId = /created (g_\S+)/.exec(created.stdout)?.[1];
  assert.ok(groupId, show(created));
  const bobListen = await bob.listen('bob', ['--read']);
  running.push(bobListen);
  const chat = alice.start(['chat', groupId, '--profile', 'alice'], { deadlineMs: 50_000 });
  running.push(chat);
  await chat.waitFor('stdout', /chatting with g_/);
  chat.write('hi pair\n');
  await bobListen.waitFor('stdout', new RegExp(`message from ${escape(alicePhone)} in ${groupId}: hi pair`));
  await chat.waitFor('stdout', /you: hi pair {2}✓✓ read$/m);
  chat.endInput();
  assert.equal((await chat.exited).code, 0, chat.describe());

  const stranger = alice.start(['chat', '+19999999999', '--profile', 'alice'], { deadlineMs: 30_000 });
  running.push(stranger);
  await stranger.waitFor('stdout', /chatting with/);
  stranger.write('anyone?\n');
  await stranger.waitFor('stdout', /you: anyone\? {2}✗\n {2}not sent: No user \+19999999999 is registered/);
  stranger.endInput();
  assert.equal((await stranger.exited).code, 0, stranger.describe());
});

const hasScript = spawnSync('script', ['--version']).status === 0;

test('at a terminal the ticks change in place', { timeout: 60_000, skip: hasScript ? false : 'no `script` to make a pseudo-terminal' }, async () => {
  const bobListen = await bob.listen('bob', ['--read']);
  running.push(bobListen);
  // `script` runs the command on a pseudo-terminal, so the chat sees a TTY as at a real terminal.
  const command = `${process.execPath} ${courierBin()} chat ${bobPhone} --profile alice`;
  const chat = startCourier(['-qfec', command, '/dev/null'], { ...alice.options({ deadlineMs: 50_000 }), executable: 'script' });
  running.push(chat);
  await chat.waitFor('stdout', /chatting with/);
  chat.write('in place\r');
  await bobListen.waitFor('stdout', /: in place/);
  // Cursor saved, moved up to the line, line cleared and redrawn, cursor restored.
  await chat.waitFor('stdout', /\x1b7\x1b\[\d+A\r\x1b\[2K\S+ you: in place {2}✓✓ read\x1b8/);
  chat.write('\x04');
  await chat.exited;
});
