import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Connection } from '../../session/connection.js';

/**
 * A `ws` socket as the session sees it. The frames sent in one go (a flush's pushes, a batch of
 * `sent` answers) leave in one write: the TCP socket is corked at the first and uncorked once
 * the current callback and its promise jobs are done.
 */
export class WsConnection implements Connection {
  #corked = false;

  constructor(
    private readonly socket: WebSocket,
    /** The TCP (or TLS) socket under `socket`. */
    private readonly stream: Duplex,
    readonly id: string,
    readonly remoteAddress: string,
  ) {}

  send(text: string, written: (err?: Error) => void): void {
    if (!this.#corked) {
      this.#corked = true;
      this.stream.cork();
      process.nextTick(this.#uncork);
    }
    this.socket.send(text, written);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.stream.uncork();
  };

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }
}
