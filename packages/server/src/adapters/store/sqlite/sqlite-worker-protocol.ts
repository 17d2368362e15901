import { CourierError } from '../../../domain/errors.js';

/** One Store call sent to the SQLite worker thread: a method of SqliteStore, by name. */
export interface WorkerCall {
  id: number;
  method: string;
  args: unknown[];
}

/** The answer to one WorkerCall. */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SentError };

/**
 * An error as it crosses the thread boundary. A structured clone keeps only an Error's message
 * and stack, so a CourierError's code and status travel as fields and it is rebuilt on arrival.
 */
export interface SentError {
  name: string;
  message: string;
  stack?: string;
  courier?: { code: string; status: number; retryAfterSeconds?: number };
  /** A Node or SQLite error code (SQLITE_BUSY, ...), kept for logs. */
  code?: string;
}

export function sendableError(error: unknown): SentError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const sent: SentError = { name: error.name, message: error.message, ...(error.stack !== undefined && { stack: error.stack }) };
  if (error instanceof CourierError) {
    sent.courier = {
      code: error.code,
      status: error.status,
      ...(error.retryAfterSeconds !== undefined && { retryAfterSeconds: error.retryAfterSeconds }),
    };
  } else if (typeof (error as { code?: unknown }).code === 'string') {
    sent.code = (error as unknown as { code: string }).code;
  }
  return sent;
}

export function receivedError(sent: SentError): Error {
  if (sent.courier !== undefined) {
    return new CourierError(sent.courier.code, sent.message, sent.courier.status, sent.courier.retryAfterSeconds);
  }
  const error = new Error(sent.message) as Error & { code?: string };
  error.name = sent.name;
  if (sent.code !== undefined) error.code = sent.code;
  // The stack of where it really failed, in the worker, is the useful one.
  if (sent.stack !== undefined) error.stack = sent.stack;
  return error;
}
