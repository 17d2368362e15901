/**
 * `courier chat <peer or groupId>`: one connection that shows the conversation as it happens and
 * sends each line typed. Your messages show their ticks, updated in place: `…` on the way, `✓`
 * stored by the server, `✓✓` delivered to every recipient, `✓✓ read` read by every recipient.
 * Incoming messages of the conversation are marked read as they are shown (the chat is open);
 * messages from elsewhere are shown, marked with their sender, and left unread.
 *
 * Being one connection, it is the device while it runs: a `courier listen` of the same profile is
 * replaced by it, so use one or the other; a `courier send` of the same profile takes over for a
 * moment, and the chat comes back after it.
 */
import { stdin, stdout } from 'node:process';
import { createInterface } from 'node:readline';
import { CourierSocketError, type MessageEvent, type ReceiptEvent } from 'courier-chat-client/node';
import { ChatScreen, type ScreenLine } from '../client-support/chat-screen.js';
import { comeBackWhenReplaced } from '../client-support/come-back.js';
import { clientFor, connectOrFail, explainDisconnect } from '../client-support/connection.js';
import { clock, formatMedia, safe } from '../client-support/format.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { checkRecipient } from '../client-support/phone.js';
import { loadProfile, profileStorage } from '../client-support/profile.js';

export const summary = `chat <to>                     an interactive conversation with a user or a group (ticks update in place)`;

const usage = `usage: courier chat <to> [--server <url>] [--profile <name>]

Shows the conversation with <to> (a phone number or a groupId) as it happens and sends each line
you type. Your messages show …  (sending), ✓ (stored), ✓✓ (delivered), ✓✓ read (read by all).
Messages from others are shown too, with their sender, and left unread.
Ctrl-D, Ctrl-C or /quit leaves. Do not run "courier listen" with the same profile meanwhile:
a device has one connection, and the newer one takes over (after a "courier send" of the same
profile, the chat comes back by itself).`;

/** What we know of one of our messages. */
interface Outgoing {
  line: ScreenLine;
  text: string;
  ts: number;
  deliveredTo: Set<string>;
  readBy: Set<string>;
  state: 'sending' | 'sent' | 'failed';
}

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [typedTo, ...extra] = positionals;
  if (typedTo === undefined || extra.length > 0) throw new UsageError(`expected one peer (a phone number) or groupId\n${usage}`);
  const peer = checkRecipient(typedTo);
  const isGroup = !peer.startsWith('+');
  const profile = await loadProfile(shared.profile);
  const client = clientFor(profile, serverOf(shared, profile.server), { storage: profileStorage(shared.profile) });

  const prompt = createInterface({ input: stdin, output: stdout, terminal: stdin.isTTY && stdout.isTTY, prompt: '> ' });
  const screen = new ChatScreen(stdout, stdout.isTTY ? prompt : undefined);
  const mine = new Map<string, Outgoing>();
  // How many must deliver and read before the ticks turn: the peer, or the group's other members.
  let recipients = 1;

  const ticks = (o: Outgoing): string => {
    if (o.state === 'failed') return '✗';
    if (o.state === 'sending') return '…';
    if (o.readBy.size >= recipients) return '✓✓ read';
    if (o.deliveredTo.size >= recipients) return '✓✓';
    return '✓';
  };
  const render = (o: Outgoing) => `${clock(o.ts)} you: ${safe(o.text)}  ${ticks(o)}`;

  client.on('message', async (m: MessageEvent) => {
    const here = isGroup ? m.group === peer : m.group === undefined && m.from === peer;
    const content = [m.body === undefined ? undefined : safe(m.body), m.media === undefined ? undefined : formatMedia(m.media)].filter((p) => p !== undefined).join(' ');
    if (here) {
      screen.print(`${clock(m.ts)} ${safe(m.from)}: ${content}`);
      client.read([m.serverId]);
    } else {
      screen.print(`${clock(m.ts)} [from ${safe(m.from)}${m.group === undefined ? '' : ` in ${safe(m.group)}`}] ${content}`);
    }
  });
  client.on('receipt', (r: ReceiptEvent) => {
    for (const serverId of r.serverIds) {
      const o = mine.get(serverId);
      if (o === undefined) continue; // a receipt for a message sent before this chat
      (r.status === 'read' ? o.readBy : o.deliveredTo).add(r.by);
      if (r.status === 'read') o.deliveredTo.add(r.by);
      screen.update(o.line, render(o));
    }
  });
  client.on('group', (g) => {
    if (g.groupId !== peer) return;
    if (Array.isArray(g.members)) recipients = Math.max(1, g.members.length - 1);
    screen.print(`${clock(typeof g.ts === 'number' ? g.ts : Date.now())} group ${safe(String(g.change))}${Array.isArray(g.users) ? ` ${g.users.map((u) => safe(String(u))).join(', ')}` : ''}`);
  });
  client.on('presence', (p) => {
    if (p.user === peer) screen.print(`${clock()} ${safe(p.user)} is ${p.online ? 'online' : 'offline'}`);
  });
  client.on('typing', (t) => {
    if (t.active && (isGroup ? t.to === peer : t.from === peer)) screen.print(`${clock()} ${safe(t.from)} is typing…`);
  });
  client.on('disconnected', (d) => {
    if (d.willReconnect) screen.print(`${clock()} disconnected (${explainDisconnect(d)}); reconnecting`);
  });

  if (isGroup) {
    const group = await client.getGroup(peer);
    recipients = Math.max(1, group.members.length - 1);
  }
  await connectOrFail(client, 15_000);
  if (!isGroup) client.subscribePresence([peer]);
  screen.print(`chatting with ${peer} as ${profile.userId} (Ctrl-D or /quit to leave)`);
  client.on('ready', () => void screen.print(`${clock()} reconnected`));

  // Sends go in the order typed; each line's ticks follow it on screen.
  let order = Promise.resolve();
  const ended = new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (err?: Error) => {
      if (stopping) return;
      stopping = true;
      prompt.close();
      // Leaving (end of input, /quit) lets the lines already typed get their `sent` first; a
      // revoked or replaced client rejects them at once anyway.
      order.then(() => client.close()).then(() => (err === undefined ? resolve() : reject(err)), reject);
    };
    client.on('revoked', () => stop(new CourierSocketError('revoked', 'the token was revoked')));
    const comeBack = comeBackWhenReplaced(client, (line) => void screen.print(`${clock()} ${line}`), stop);
    prompt.on('close', () => comeBack.cancel());
    process.once('SIGINT', () => stop());
    process.once('SIGTERM', () => stop());
    prompt.on('close', () => stop());
  });

  prompt.on('line', (typed) => {
    const text = typed.trim();
    if (text === '/quit') return void prompt.close();
    if (text === '') return void (stdout.isTTY && prompt.prompt());
    const o: Outgoing = { line: { text: '' }, text, ts: Date.now(), deliveredTo: new Set(), readBy: new Set(), state: 'sending' };
    screen.dropTypedLine(typed);
    o.line = screen.print(render(o));
    order = order.then(async () => {
      try {
        const sent = await client.send({ to: peer, body: text });
        o.state = 'sent';
        o.ts = sent.ts;
        mine.set(sent.serverId, o);
        screen.update(o.line, render(o));
      } catch (err) {
        o.state = 'failed';
        screen.update(o.line, render(o));
        screen.print(`  not sent: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  });
  if (stdout.isTTY) prompt.prompt();
  try {
    await ended;
  } finally {
    // After /quit the input may still be open (a pipe): let go of it, or the process stays.
    stdin.destroy();
  }
}
