import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { CourierError } from '../../../domain/errors.js';

/**
 * The request body as a stream of its own. A consumer that gives up (an upload over the size
 * limit) destroys this stream only: destroying the request itself would destroy its socket,
 * and the client would never get the answer saying why. The request is left paused, and
 * a client that goes away mid-body fails this stream instead of leaving it waiting forever.
 */
export function detachedBody(request: IncomingMessage): Readable {
  const body = new PassThrough();
  request.once('close', () => {
    // A CourierError: the client's doing, answered (to nobody) without a server error logged.
    if (!request.complete) body.destroy(new CourierError('incomplete_body', 'The connection closed before the whole body arrived.', 400));
  });
  request.pipe(body);
  return body;
}
