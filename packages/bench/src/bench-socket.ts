import WebSocket from 'ws';
import type { Anomalies } from './anomalies.js';

export interface AckPolicy {
  /** Ack at once when this many durable events are unacked. */
  every: number;
  /** Otherwise ack this long after the first unacked event arrived (ms). */
  delayMs: number;
}

/** A durable event as the contract defines it; the benchmark reads only these fields. */
export interface DurableFrame {
  type: 'message' | 'receipt';
  seq: number;
  serverId?: string;
  id?: string;
  from?: string;
  to?: string;
  body?: string;
  group?: string;
  status?: 'delivered' | 'read';
  serverIds?: string[];
}

export interface EphemeralFrame {
  type: string;
  id?: string;
  serverId?: string;
  ref?: string;
  code?: string;
  message?: string;
}

export interface SocketHandlers {
  onEvent?(frame: DurableFrame): void;
  onFrame?(frame: EphemeralFrame): void;
}

/**
 * One device's raw WebSocket, as cheap as a client can be: authenticates, hands durable events
 * and other frames to the scenario, and acks cumulatively in batches as the SDK does. Anything
 * the contract forbids (an error frame, seq going backwards, an unexpected close) is recorded as
 * an anomaly, never smoothed over.
 */
export class BenchSocket {
  lastSeq = 0;
  received = 0;
  /**
   * Jumps in seq on this connection (from, to), the first few. Seqs need only increase, but a
   * jump over events still in the inbox would let a cumulative ack delete what was never pushed.
   */
  readonly gaps: Array<[number, number]> = [];
  gapCount = 0;
  private unacked = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private closedByUs = false;
  /** A socket error is followed by a close; the close's anomaly names it. */
  private lastError: Error | undefined;
  private handlers: SocketHandlers | undefined;
  /** Frames that came before the scenario set its handlers (often in the same read as `ready`). */
  private early: Array<DurableFrame | EphemeralFrame> = [];

  private constructor(
    private readonly ws: WebSocket,
    readonly userId: string,
    private readonly ack: AckPolicy,
    private readonly anomalies: Anomalies,
  ) {
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', (err: Error) => (this.lastError = err));
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
      if (!this.closedByUs) {
        const error = this.lastError === undefined ? '' : ` after the error "${this.lastError.message}"`;
        this.anomalies.add(`socket of ${userId} closed by the server: code ${code} "${reason.toString()}"${error}`);
      }
    });
  }

  /** Opens a socket and authenticates; resolves on `ready`. */
  static open(wsUrl: string, account: { userId: string; token: string }, ack: AckPolicy, anomalies: Anomalies, timeoutMs = 30_000): Promise<BenchSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no ready for ${account.userId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      ws.once('error', fail);
      ws.once('close', (code: number, reason: Buffer) => fail(new Error(`socket of ${account.userId} closed before ready: ${code} "${reason.toString()}"`)));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token: account.token })));
      ws.once('message', (data: Buffer) => {
        clearTimeout(timer);
        const frame = JSON.parse(data.toString()) as { type: string; userId?: string };
        if (frame.type !== 'ready' || frame.userId !== account.userId) {
          ws.terminate();
          reject(new Error(`expected ready for ${account.userId}, got ${data.toString().slice(0, 300)}`));
          return;
        }
        ws.removeAllListeners();
        resolve(new BenchSocket(ws, account.userId, ack, anomalies));
      });
    });
  }

  /** Sets the scenario's handlers and hands them whatever arrived before. */
  setHandlers(handlers: SocketHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = [];
    for (const frame of early) this.dispatch(frame);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a text message; `body` must not need JSON escaping beyond what the caller did. */
  sendMessage(id: string, to: string, body: string): void {
    this.ws.send(`{"type":"send","id":"${id}","to":"${to}","body":"${body}"}`);
  }

  sendRaw(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Acks everything received so far now (used before closing). */
  flushAck(): void {
    if (this.ackTimer !== undefined) {
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
    }
    if (this.unacked === 0 || !this.isOpen) return;
    this.unacked = 0;
    this.ws.send(`{"type":"ack","upTo":${this.lastSeq}}`);
  }

  close(): Promise<void> {
    this.closedByUs = true;
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 5000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000, 'bench done');
    });
  }

  private onMessage(data: Buffer): void {
    let frame: DurableFrame | EphemeralFrame;
    try {
      frame = JSON.parse(data.toString()) as DurableFrame | EphemeralFrame;
    } catch (err) {
      this.anomalies.add(`${this.userId} got a frame that is not JSON (${(err as Error).message}): ${data.toString().slice(0, 200)}`);
      return;
    }
    if ('seq' in frame && typeof frame.seq === 'number') {
      if (frame.seq <= this.lastSeq) {
        this.anomalies.add(`${this.userId} got seq ${frame.seq} after seq ${this.lastSeq} on one connection: ${data.toString().slice(0, 300)}`);
        return;
      }
      if (this.lastSeq !== 0 && frame.seq !== this.lastSeq + 1) {
        this.gapCount++;
        if (this.gaps.length < 20) this.gaps.push([this.lastSeq, frame.seq]);
      }
      this.lastSeq = frame.seq;
      this.received++;
      this.unacked++;
      this.dispatch(frame);
      if (this.unacked >= this.ack.every) this.flushAck();
      else this.ackTimer ??= setTimeout(() => {
        this.ackTimer = undefined;
        this.flushAck();
      }, this.ack.delayMs);
      return;
    }
    if (frame.type === 'error') this.anomalies.add(`${this.userId} got an error frame: ${data.toString().slice(0, 300)}`);
    this.dispatch(frame);
  }

  private dispatch(frame: DurableFrame | EphemeralFrame): void {
    if (this.handlers === undefined) this.early.push(frame);
    else if ('seq' in frame && typeof frame.seq === 'number') this.handlers.onEvent?.(frame);
    else this.handlers.onFrame?.(frame as EphemeralFrame);
  }
}
