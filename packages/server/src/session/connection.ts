/** What a session needs of its socket; the gateway adapts a `ws` WebSocket to it. */
export interface Connection {
  readonly id: string;
  readonly remoteAddress: string;
  /** Sends one text frame; `written` runs once it has left the process (or failed). */
  send(text: string, written: (err?: Error) => void): void;
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
}
