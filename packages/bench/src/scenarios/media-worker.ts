import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Account } from '../registration.js';

const MiB = 1024 * 1024;

/**
 * Worker side of the media measurement: the upload runs in its own process so the parent's
 * 50 ms memory sampling is never held up by the uploader's event loop.
 */
export async function mediaUpload(args: { url: string; account: Account; size: number }): Promise<{ status: number; body: string; hash: string; ms: number }> {
  // One random block sent over and over: the body costs the uploader no memory and no time.
  const block = randomBytes(MiB);
  const hash = createHash('sha256');
  const started = performance.now();
  // A server that answers before the body is complete (an error) stops the upload.
  let answered = false;
  const result = await new Promise<{ status: number; body: string; hash: string }>((resolve, reject) => {
    const req = request(
      new URL('/v1/media', args.url),
      {
        method: 'POST',
        headers: { authorization: `Bearer ${args.account.token}`, 'content-type': 'application/octet-stream', 'content-length': String(args.size) },
        timeout: 120_000,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), hash: written === args.size ? hash.digest('hex') : '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('POST /v1/media: no answer within 120 s')));
    req.on('error', reject);
    let written = 0;
    const write = () => {
      while (written < args.size && !answered) {
        const chunk = written + MiB <= args.size ? block : block.subarray(0, args.size - written);
        hash.update(chunk);
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
      if (!answered) req.end();
    };
    write();
  });
  return { ...result, ms: performance.now() - started };
}
