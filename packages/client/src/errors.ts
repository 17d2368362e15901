/** Errors the SDK throws or rejects with. Each carries the contract's snake_case `code`. */

/**
 * An HTTP call answered with an error status; `code` and `message` come from the contract's error
 * body (`http_<status>` for an answer without one). `status` 0 and code `unreachable`: no answer
 * at all (connection refused, unknown host, TLS failure), the reason in the message.
 */
export class CourierApiError extends Error {
  override readonly name = 'CourierApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds from the `Retry-After` header, on `429`. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/**
 * An `error` frame from the socket, or a socket-level failure of a request (`code` is then one of
 * `closed`, `revoked`, `replaced`, `frame_too_large`, `not_connected`).
 */
export class CourierSocketError extends Error {
  override readonly name = 'CourierSocketError';
  constructor(
    readonly code: string,
    message: string,
    /** The client id the error concerns, when the server gave one. */
    readonly ref?: string,
  ) {
    super(message);
  }
}

/** An app handler of a durable event threw: the event is not acked and comes again after a reconnect. */
export class CourierHandlerError extends Error {
  override readonly name = 'CourierHandlerError';
  constructor(
    readonly seq: number,
    readonly eventType: string,
    override readonly cause: unknown,
  ) {
    super(`handler of ${eventType} seq ${seq} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
