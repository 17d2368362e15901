/**
 * An error a client may see: a stable snake_case code and a sentence.
 * Everything the gateway answers with, over HTTP or the socket, is one of these.
 */
export class CourierError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status where this error answers a request. */
    readonly status = 400,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CourierError';
  }
}
