/**
 * courier-chat-client/node: the SDK with the `ws` package as its default WebSocket, since Node 20
 * has no global one. Everything else is the browser-safe core, unchanged.
 */
import WebSocket from 'ws';
import { CourierClient as CoreClient } from './client.js';
import type { CourierClientOptions } from './client-options.js';

export * from './index.js';

export class CourierClient extends CoreClient {
  constructor(options: CourierClientOptions) {
    super({ WebSocket, ...options });
  }
}
