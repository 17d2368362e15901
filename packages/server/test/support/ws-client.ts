import WebSocket from 'ws';

export type Frame = Record<string, any>;

/**
 * A raw test client over a real socket: what a client written from the contract alone would do.
 * Frames are collected; `next` waits for the first one (not yet taken) that matches.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(
    readonly socket: WebSocket,
  ) {
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('error', () => {});
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(wsUrl: string): Promise<WsClient> {
    const client = new WsClient(new WebSocket(wsUrl));
    await client.opened;
    return client;
  }

  /** Opens, authenticates and waits for `ready`. */
  static async connect(wsUrl: string, token: string): Promise<WsClient> {
    const client = await WsClient.open(wsUrl);
    client.send({ type: 'auth', token });
    await client.next((f) => f.type === 'ready');
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `match` (frames before it that do not match stay available). */
  async next(match: (frame: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const index = await this.indexOf(match, timeoutMs);
    return this.frames.splice(index, 1)[0]!;
  }

  /**
   * Waits for the first frame matching `marker` (something sent after what a test expects never
   * to see), takes it, and answers the frames not taken that arrived before it, in arrival order.
   */
  async before(marker: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame[]> {
    const index = await this.indexOf(marker, timeoutMs);
    const earlier = this.frames.slice(0, index);
    this.frames.splice(index, 1);
    return earlier;
  }

  private async indexOf(match: (frame: Frame) => boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((frame) => match(frame));
      if (index >= 0) return index;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next `count` frames of a type, in arrival order. */
  async take(type: string, count: number, timeoutMs = 5000): Promise<Frame[]> {
    const out: Frame[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next((f) => f.type === type, timeoutMs));
    return out;
  }

  /** Resolves after `ms` with every frame of `type` seen and not taken (for "nothing arrives" checks). */
  async quietFor(ms: number, type?: string): Promise<Frame[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.frames.filter((f) => type === undefined || f.type === type);
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}
