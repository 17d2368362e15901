/** `courier fetch <hash> <path>`: downloads a media blob, checking its sha-256 on the way. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { stdout } from 'node:process';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { clientFor } from '../client-support/connection.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { loadProfile } from '../client-support/profile.js';

export const summary = `fetch <hash> <path>           download a media blob`;

const usage = `usage: courier fetch <hash> <path> [--server <url>] [--profile <name>]

Downloads the media blob <hash> into <path> ("-" writes to stdout).`;

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [hash, path, ...extra] = positionals;
  if (hash === undefined || path === undefined || extra.length > 0) throw new UsageError(`expected a hash and a path\n${usage}`);
  if (!/^[0-9a-f]{64}$/i.test(hash)) throw new UsageError(`"${hash}" is not a sha-256 hash (64 hex digits)`);

  const profile = await loadProfile(shared.profile);
  const client = clientFor(profile, serverOf(shared, profile.server));
  const response = await client.download(hash.toLowerCase());
  if (response.body === null) throw new Error('the server answered without a body');

  const digest = createHash('sha256');
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      digest.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const toStdout = path === '-';
  const sink = toStdout ? stdout : createWriteStream(path, { mode: 0o644 });
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), check, sink, { end: !toStdout });

  const actual = digest.digest('hex');
  if (actual !== hash.toLowerCase()) {
    if (!toStdout) await rm(path, { force: true });
    throw new Error(`the bytes received hash to ${actual}, not ${hash}: ${toStdout ? 'output is corrupt' : 'file deleted'}`);
  }
  if (!toStdout) stdout.write(`saved ${path} (${size} bytes, ${response.headers.get('content-type') ?? 'unknown type'})\n`);
}
