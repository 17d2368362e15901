/**
 * `courier listen`: prints each message, receipt, group change, typing and presence event as one
 * line, and acks durable events only once their line is written. Ctrl-C exits.
 */
import { stderr, stdout } from 'node:process';
import { clientFor, connectOrFail } from '../client-support/connection.js';
import { clock, formatGroup, formatMessage, formatPresence, formatReceipt, formatTyping, safe } from '../client-support/format.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { loadProfile, profileStorage } from '../client-support/profile.js';

export const summary = `listen [--read]               print incoming messages, receipts and presence as they come`;

const usage = `usage: courier listen [--read] [--presence <user,user...>] [--server <url>] [--profile <name>]

Prints incoming messages, receipts, group changes, typing and presence as they come.
  --read        tell the senders each printed message was read (blue ticks)
  --presence    also show when these users come online or go offline`;

/** How long `listen` stays away after another connection of the device replaced it. */
const replacedPauseMs = 6_000;
const maxReplaced = 5;
const replacedWindowMs = 120_000;

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
  client.on('unknown', (f) => print(`${clock()} ${safe(String(f.type))} ${safe(JSON.stringify(f))}`));
  client.on('typing', (t) => print(formatTyping(t)));
  client.on('presence', (p) => print(formatPresence(p)));
  client.on('error', (err) => note(`error: ${safe(err.message)}`));
  client.on('disconnected', (d) => {
    if (d.willReconnect) note(`disconnected (${d.error ?? `close ${d.code}`}); reconnecting in ${((d.delayMs ?? 0) / 1000).toFixed(1)} s`);
  });

  let retry: NodeJS.Timeout | undefined;
  const stopped = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(retry);
      client.close().then(() => reject(err), reject);
    };
    client.on('revoked', () => fail(new Error('this device was revoked (the phone was registered again elsewhere): register again')));
    // `courier send` with the same profile is the same device: its connection replaces this one for
    // a moment. Come back after it is done, but give up if something keeps taking over.
    let recent: number[] = [];
    client.on('replaced', () => {
      const now = Date.now();
      recent = [...recent.filter((t) => now - t < replacedWindowMs), now];
      if (recent.length > maxReplaced) {
        fail(new Error('another connection of this device keeps taking over (is another "courier listen" running?)'));
        return;
      }
      note(`another connection of this device took over (a "courier send"?); back in ${replacedPauseMs / 1000} s`);
      retry = setTimeout(() => {
        client.connect().catch((err: unknown) => note(`reconnecting failed: ${err instanceof Error ? err.message : String(err)}`));
      }, replacedPauseMs);
    });
    const stop = () => {
      note('closing');
      clearTimeout(retry);
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
