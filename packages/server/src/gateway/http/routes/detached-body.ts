import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/**
 * The request body as a stream of its own. A consumer that gives up (an upload over the size
 * limit) destroys this stream only: destroying the request itself would destroy its socket,
 * and the client would never get the answer saying why. The request is left paused, and
 * a client that goes away mid-body fails this stream instead of leaving it waiting forever.
 * What arrives after a consumer gave up is read and dropped until the answer closes the
 * connection: bytes left unread when the socket closes make it reset, and a reset can destroy
 * the answer on its way to the client.
 */
export function detachedBody(request: IncomingMessage): Readable {
  const body = new PassThrough();
  request.once('close', () => {
    if (!request.complete) body.destroy(new Error('the client closed the connection before the whole body arrived'));
  });
  request.pipe(body);
  body.once('close', () => {
    if (!request.complete) request.resume();
  });
  return body;
}
