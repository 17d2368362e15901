import { WebSocket } from 'ws';
import type { Connection } from '../../session/connection.js';

/** A `ws` socket as the session sees it. */
export class WsConnection implements Connection {
  constructor(
    private readonly socket: WebSocket,
    readonly id: string,
    readonly remoteAddress: string,
  ) {}

  send(text: string, written: (err?: Error) => void): void {
    this.socket.send(text, written);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }
}
