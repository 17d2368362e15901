/**
 * A test double of a Courier server that breaks the contract on purpose, to show that `courier
 * probe` catches it. It speaks just enough of the protocol for the probe (registration with the
 * file SMS provider's outbox, auth, send/sent, message, ack, read, receipts) and, every `every`
 * messages, either drops one after answering `sent` ("lost") or stores it twice under two `seq`s
 * ("duplicate"). Everything is in memory.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type Fault = 'drop' | 'duplicate';

type Event = Record<string, unknown> & { seq: number };

interface Device {
  events: Event[];
  nextSeq: number;
  socket?: WebSocket;
}

export class BrokenServer {
  readonly #devices = new Map<string, Device>();
  readonly #sent = new Map<string, string>(); // serverId -> sender
  #messages = 0;

  private constructor(
    readonly server: Server,
    readonly url: string,
    private readonly fault: Fault,
    private readonly every: number,
  ) {}

  static async start(fault: Fault, smsOutbox: string, every = 4): Promise<BrokenServer> {
    let broken: BrokenServer | undefined;
    const server = createServer((request, response) => {
      void body(request).then(async (text) => {
        const json = (text === '' ? {} : JSON.parse(text)) as { phone?: string };
        if (request.url === '/v1/register/request' && typeof json.phone === 'string') {
          await appendFile(smsOutbox, `${JSON.stringify({ phone: json.phone, code: '123456', at: Date.now() })}\n`);
          response.writeHead(202, { 'content-type': 'application/json' }).end('{"expiresIn":600}');
        } else if (request.url === '/v1/register/verify' && typeof json.phone === 'string') {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ userId: json.phone, token: `token${json.phone}` }));
        } else {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no such route"}}');
        }
      });
    });
    const wss = new WebSocketServer({ server, path: '/v1/ws' });
    wss.on('connection', (socket) => broken!.#connection(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    broken = new BrokenServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, fault, every);
    return broken;
  }

  async stop(): Promise<void> {
    for (const device of this.#devices.values()) device.socket?.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #device(userId: string): Device {
    let device = this.#devices.get(userId);
    if (device === undefined) {
      device = { events: [], nextSeq: 1 };
      this.#devices.set(userId, device);
    }
    return device;
  }

  #append(userId: string, event: Record<string, unknown>): void {
    const device = this.#device(userId);
    const stored = { ...event, seq: device.nextSeq++ } as Event;
    device.events.push(stored);
    device.socket?.send(JSON.stringify(stored));
  }

  #connection(socket: WebSocket): void {
    let userId: string | undefined;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, any>;
      if (userId === undefined) {
        if (frame.type !== 'auth' || typeof frame.token !== 'string') return socket.close(4001);
        userId = frame.token.replace(/^token/, '');
        const device = this.#device(userId);
        device.socket?.close(4002);
        device.socket = socket;
        socket.send(JSON.stringify({ type: 'ready', userId, serverTime: Date.now() }));
        for (const event of device.events) socket.send(JSON.stringify(event));
        return;
      }
      if (frame.type === 'send') {
        const serverId = randomUUID();
        const ts = Date.now();
        this.#sent.set(serverId, userId);
        this.#messages++;
        const message = { type: 'message', serverId, id: frame.id, from: userId, to: frame.to, ts, body: frame.body };
        const faulty = this.#messages % this.every === 0;
        if (!(faulty && this.fault === 'drop')) this.#append(frame.to, message);
        if (faulty && this.fault === 'duplicate') this.#append(frame.to, message);
        socket.send(JSON.stringify({ type: 'sent', id: frame.id, serverId, ts }));
      } else if (frame.type === 'ack') {
        const device = this.#device(userId);
        const acked = device.events.filter((e) => e.seq <= frame.upTo);
        device.events = device.events.filter((e) => e.seq > frame.upTo);
        for (const event of acked) {
          if (event.type === 'message') this.#receipt('delivered', event.serverId as string, userId);
        }
      } else if (frame.type === 'read') {
        for (const serverId of frame.serverIds as string[]) this.#receipt('read', serverId, userId);
      } else if (frame.type === 'ping') {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on('close', () => {
      if (userId !== undefined && this.#device(userId).socket === socket) this.#device(userId).socket = undefined;
    });
  }

  #receipt(status: 'delivered' | 'read', serverId: string, by: string): void {
    const sender = this.#sent.get(serverId);
    if (sender !== undefined) this.#append(sender, { type: 'receipt', status, serverIds: [serverId], by, ts: Date.now() });
  }
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}
