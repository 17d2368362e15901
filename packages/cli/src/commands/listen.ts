/**
 * `courier listen`: prints each message, edit, delete, reaction, receipt, group change, typing and presence event as one
 * line, and acks durable events only once their line is written. Ctrl-C exits.
 */
import { stderr, stdout } from 'node:process';
import { CourierSocketError } from 'courier-chat-client/node';
import { comeBackWhenReplaced } from '../client-support/come-back.js';
import { clientFor, connectOrFail } from '../client-support/connection.js';
import { clock, formatAction, formatGroup, formatMessage, formatPresence, formatReceipt, formatTyping, safe } from '../client-support/format.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { loadProfile, profileStorage } from '../client-support/profile.js';

export const summary = `listen [--read]               print incoming messages, receipts and presence as they come`;

const usage = `usage: courier listen [--read] [--presence <user,user...>] [--server <url>] [--profile <name>]

Prints incoming messages, receipts, group changes, typing and presence as they come.
  --read        tell the senders each printed message was read (blue ticks)
  --presence    also show when these users come online or go offline`;

/** Resolves once the line is handed to the OS, so an ack never covers an unprinted event. */
function print(line: string): Promise<void> {
  return new Promise((resolve, reject) => stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve())));
}

function note(line: string): void {
  stderr.write(`${clock()} ${line}\n`);
}

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, {
    read: { type: 'boolean' },
    presence: { type: 'string' },
  });
  if (shared.help) return void stdout.write(`${usage}\n`);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${usage}`);
  const profile = await loadProfile(shared.profile);
  const client = clientFor(profile, serverOf(shared, profile.server), { storage: profileStorage(shared.profile) });
  const markRead = values.read === true;

  client.on('message', async (m) => {
    await print(formatMessage(m));
    if (markRead) client.read([m.serverId]);
  });
  client.on('receipt', (r) => print(formatReceipt(r)));
  client.on('group', (g) => print(formatGroup(g)));
  client.on('edit', (a) => print(formatAction(a)));
  client.on('delete', (a) => print(formatAction(a)));
  client.on('reaction', (a) => print(formatAction(a)));
  client.on('unknown', (f) => print(`${clock()} ${safe(String(f.type))} ${safe(JSON.stringify(f))}`));
  client.on('typing', (t) => print(formatTyping(t)));
  client.on('presence', (p) => print(formatPresence(p)));
  client.on('error', (err) => note(`error: ${safe(err.message)}`));
  client.on('disconnected', (d) => {
    if (d.willReconnect) note(`disconnected (${d.error ?? `close ${d.code}`}); reconnecting in ${((d.delayMs ?? 0) / 1000).toFixed(1)} s`);
  });

  const stopped = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      comeBack.cancel();
      client.close().then(() => reject(err), reject);
    };
    client.on('revoked', () => fail(new CourierSocketError('revoked', 'the token was revoked')));
    const comeBack = comeBackWhenReplaced(client, note, fail);
    const stop = () => {
      note('closing');
      comeBack.cancel();
      client.close().then(resolve, reject);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  await connectOrFail(client, 15_000);
  note(`listening as ${profile.userId} on ${client.url} (Ctrl-C to stop)`);
  client.on('ready', () => note('reconnected'));
  if (typeof values.presence === 'string') {
    client.subscribePresence(values.presence.split(',').map((u) => u.trim()).filter((u) => u !== ''));
  }
  await stopped;
}
