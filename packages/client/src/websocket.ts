/**
 * The part of the WHATWG WebSocket API the client uses, so that the browser's `WebSocket` and the
 * `ws` package's both fit. Handler parameters are `any` because each implementation declares its
 * own event classes; the client reads only `data`, `code`, `reason` and `message` from them.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `readyState` of an open socket, the same in every implementation. */
export const OPEN = 1;

/** The default constructor: the platform's, where there is one (browsers, Deno, Node 22+). */
export function platformWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}
