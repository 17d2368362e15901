/** The WebSocket close codes the server uses; clients act on them (see docs/protocol.md). */
export const CloseCodes = {
  /** The token is unknown or was revoked, or the socket never authenticated: do not reconnect with it. */
  revoked: 4001,
  /** A newer connection of the same device took over: do not reconnect on your own. */
  replaced: 4002,
  policy: 1008,
  tooBig: 1009,
  /** The node is stopping: reconnect (elsewhere). */
  restart: 1012,
} as const;
