import { Agent, request } from 'node:http';

export interface JsonResponse {
  status: number;
  body: any;
}

/**
 * A small HTTP client on a bounded keep-alive pool: the benchmark must know how many sockets it
 * holds towards the server (each is a file descriptor on both sides), which fetch's pool hides.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  postJson(path: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<JsonResponse> {
    const payload = Buffer.from(JSON.stringify(body));
    return this.send('POST', path, { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers }, payload, timeoutMs);
  }

  get(path: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<JsonResponse> {
    return this.send('GET', path, headers, undefined, timeoutMs);
  }

  /** Closes every pooled socket. */
  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, headers: Record<string, string>, payload: Buffer | undefined, timeoutMs: number): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.baseUrl), { method, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const isJson = (res.headers['content-type'] ?? '').includes('json');
          try {
            resolve({ status: res.statusCode ?? 0, body: isJson && text !== '' ? JSON.parse(text) : text });
          } catch (err) {
            reject(new Error(`${method} ${path}: answered ${res.statusCode} with unparseable JSON: ${text.slice(0, 200)} (${(err as Error).message})`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
