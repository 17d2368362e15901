/**
 * courier-chat-client: the Courier SDK. Browser-safe: no Node module is imported here. In Node 20,
 * which has no global WebSocket, import from `courier-chat-client/node` instead.
 */
export { CourierClient } from './client.js';
export type { ClientEvents, CloseInfo, DisconnectInfo } from './client-events.js';
export type { CourierClientOptions } from './client-options.js';
export type { ClientState } from './connection-lifecycle.js';
export type { SendOptions } from './outgoing-sends.js';
export { CourierApiError, CourierHandlerError, CourierSocketError } from './errors.js';
export { Emitter, type Listener } from './emitter.js';
export {
  HttpApi,
  registration,
  vapidPublicKey,
  type DeviceInfo,
  type DownloadOptions,
  type Group,
  type PushTarget,
  type Registration,
  type RegistrationApi,
  type UploadBody,
} from './http-api.js';
export { linkDevice, type LinkDeviceOptions, type LinkedDevice, type PendingLink } from './device-link.js';
export { ReconnectBackoff, type BackoffOptions } from './reconnect-backoff.js';
export { MemoryStorage, type ClientStorage } from './storage.js';
export { socketUrl, httpBase } from './server-url.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
export { Conversation, conversationId, type MessageView, type ReactionCount } from './conversation.js';
export { parseServerFrame, isDurable } from './frames.js';
export type * from './frames.js';
