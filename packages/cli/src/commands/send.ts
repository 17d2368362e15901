/**
 * `courier send <to> <text>` / `courier send <to> --file <path>`: connects, sends, prints
 * `sent <serverId>`, then waits a few seconds for the `delivered` receipt.
 *
 * It looks at the inbox without consuming it (the SDK's `ack: false`): messages for this user
 * that arrive meanwhile stay on the server for `courier listen`. Being the same device, its
 * connection briefly replaces a running `listen`, which comes back a few seconds later.
 */
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { stdout } from 'node:process';
import { Readable } from 'node:stream';
import type { MediaRef, ReceiptEvent } from 'courier-chat-client/node';
import { clientFor, connectOrFail } from '../client-support/connection.js';
import { formatReceipt } from '../client-support/format.js';
import { mimeOf } from '../client-support/mime.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { checkRecipient } from '../client-support/phone.js';
import { loadProfile } from '../client-support/profile.js';
import { thumbnailOf } from '../client-support/thumbnail.js';

export const summary = `send <to> <text>              send a text message
send <to> --file <path>       send a photo, voice note or any file`;

const usage = `usage: courier send <to> <text...>
       courier send <to> --file <path> [--caption <text>] [--mime <type>]
       options: --reply-to <serverId> (answer that message), --expires-in <seconds> (the message
                disappears, 60 to 7776000), --wait <seconds> (for the delivered receipt, default 3),
                --server <url>, --profile <name>

<to> is a phone number (userId) or a groupId.`;

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, {
    file: { type: 'string', short: 'f' },
    caption: { type: 'string' },
    mime: { type: 'string' },
    wait: { type: 'string' },
    'reply-to': { type: 'string' },
    'expires-in': { type: 'string' },
  });
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [typedTo, ...words] = positionals;
  const to = typedTo === undefined ? undefined : checkRecipient(typedTo);
  const file = typeof values.file === 'string' ? values.file : undefined;
  const text = words.length > 0 ? words.join(' ') : undefined;
  if (to === undefined || (text === undefined && file === undefined)) throw new UsageError(`expected a recipient and a text or --file\n${usage}`);
  const waitSeconds = values.wait === undefined ? 3 : Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new UsageError('--wait takes a number of seconds');
  const replyTo = typeof values['reply-to'] === 'string' ? values['reply-to'] : undefined;
  const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in']);
  if (expiresIn !== undefined && !(Number.isInteger(expiresIn) && expiresIn >= 60 && expiresIn <= 7_776_000)) {
    throw new UsageError('--expires-in takes whole seconds from 60 to 7776000 (90 days)');
  }

  const profile = await loadProfile(shared.profile);
  const client = clientFor(profile, serverOf(shared, profile.server), { ack: false });
  try {
    let media: MediaRef | undefined;
    if (file !== undefined) {
      const mime = typeof values.mime === 'string' ? values.mime : mimeOf(extname(file));
      // Streamed: a large video never sits in memory.
      media = await client.upload(Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>, mime);
      if (typeof values.caption === 'string') media.caption = values.caption;
      const { thumbnail, note } = await thumbnailOf(file, media.mime);
      if (thumbnail !== undefined) media.thumbnail = thumbnail;
      stdout.write(`uploaded ${basename(file)}: ${media.hash} (${media.size} bytes, ${media.mime}${thumbnail === undefined ? '' : ', with a thumbnail'})\n`);
      if (note !== undefined) stdout.write(`${note}\n`);
    }

    let sentId: string | undefined;
    const delivered = new Promise<ReceiptEvent>((resolve) => {
      client.on('receipt', (r) => {
        if (r.status === 'delivered' && sentId !== undefined && r.serverIds.includes(sentId)) resolve(r);
      });
    });
    await connectOrFail(client, 10_000);
    const sent = await client.send({
      to,
      ...(text === undefined ? {} : { body: text }),
      ...(media === undefined ? {} : { media }),
      ...(replyTo === undefined ? {} : { replyTo }),
      ...(expiresIn === undefined ? {} : { expiresIn }),
    });
    sentId = sent.serverId;
    stdout.write(`sent ${sent.serverId}\n`);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), waitSeconds * 1000);
    });
    const receipt = await Promise.race([delivered, timeout]);
    clearTimeout(timer);
    stdout.write(receipt === undefined ? `not delivered yet (the recipient is offline); it will be when they connect\n` : `${formatReceipt(receipt)}\n`);
  } finally {
    await client.close();
  }
}
