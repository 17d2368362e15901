import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CourierError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import { CloseCodes, Session, type SessionDeps } from '../../session/session.js';
import { FrameRateLimiter } from './frame-rate-limiter.js';
import { parseClientFrame, refOf } from './inbound-frames.js';
import { WsConnection } from './ws-connection.js';

export interface WsGatewaySettings {
  path: string;
  maxFrameBytes: number;
  heartbeatMs: number;
  /** Undefined: no per-connection rate limit. */
  framesPerSecond?: number;
}

/**
 * The socket gateway: upgrades `GET /v1/ws`, makes one Session per socket, checks every frame
 * against its schema and the connection's rate limit, and drops sockets that stop answering pings.
 */
export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly closing = new Set<Promise<void>>();
  /** Frames being handled; a stop waits for them so that no request runs on a closed bus or store. */
  private readonly handling = new Set<Promise<void>>();
  private accepting = true;

  constructor(
    server: Server,
    private readonly sessionDeps: SessionDeps,
    private readonly settings: WsGatewaySettings,
    private readonly logger: Logger,
  ) {
    // ws closes a socket whose frame exceeds maxPayload with 1009 by itself.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxFrameBytes, perMessageDeflate: false });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    this.heartbeat = setInterval(() => this.checkHeartbeats(), settings.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Stops taking sockets and closes the open ones with 1012 so clients reconnect elsewhere. */
  async drain(): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeat);
    const closing = [...this.wss.clients].map(
      (socket) => new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(CloseCodes.restart, 'server restarting');
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 2000).unref();
      }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // Sessions go offline, and frames already read finish, asynchronously; let them finish before
    // the bus and store close.
    await Promise.all([...this.closing, ...this.handling]);
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '').split('?')[0];
    if (path !== this.settings.path || !this.accepting) {
      socket.end(path === this.settings.path ? 'HTTP/1.1 503 Service Unavailable\r\n\r\n' : 'HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, socket));
  }

  private accept(ws: WebSocket, request: IncomingMessage, stream: Duplex): void {
    const address = request.socket.remoteAddress ?? 'unknown';
    const connection = new WsConnection(ws, stream, newConnectionId(), address);
    const session = new Session(connection, this.sessionDeps);
    const log = this.logger.child({ conn: connection.id, addr: address });
    const limiter = this.settings.framesPerSecond === undefined ? undefined : new FrameRateLimiter(this.settings.framesPerSecond);
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', (err) => log.warn({ err, user: session.userId, device: session.device?.deviceId }, 'socket error'));
    ws.on('close', (code) => {
      const done = session.closed(code).catch((err: unknown) => log.error({ err }, 'closing the session failed'));
      this.closing.add(done);
      void done.finally(() => this.closing.delete(done));
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const verdict = limiter?.take() ?? 'ok';
      if (verdict === 'close') return session.close(CloseCodes.policy, 'too many frames');
      if (verdict === 'refuse') {
        // The client needs the ref to know which send was dropped, so the frame is still read.
        const refused = isBinary ? undefined : parseClientFrame(data.toString());
        void session.rejectFrame(new CourierError('rate_limited', 'Too many frames; slow down.'), refused && refOf(refused));
        return;
      }
      if (isBinary) {
        void session.rejectFrame(new CourierError('invalid_frame', 'Frames must be JSON text frames, not binary.'), undefined);
        return;
      }
      const parsed = parseClientFrame(data.toString());
      const handled = parsed.ok ? session.handle(parsed.frame) : session.rejectFrame(parsed.error, parsed.ref);
      const done = handled.catch((err: unknown) => {
        log.error({ err, user: session.userId, device: session.device?.deviceId }, 'frame handling failed');
        session.close(1011, 'internal error');
      });
      this.handling.add(done);
      void done.finally(() => this.handling.delete(done));
    });
  }

  private checkHeartbeats(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}

/**
 * A connection id that sorts, as a string, in the order connections were opened (time first,
 * fixed width), so that the directory can keep a device's newest connection whichever node's
 * claim arrives first.
 */
export function newConnectionId(): string {
  // Microseconds of wall-clock time: two sockets opened one after the other, even within one
  // millisecond, sort in that order.
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return `${micros.toString(36).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
}
