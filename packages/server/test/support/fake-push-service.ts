import { createECDH, createPublicKey, createDecipheriv, hkdfSync, randomBytes, randomUUID, verify, type ECDH } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A subscription as a browser makes it: its own P-256 key pair and a 16-byte auth secret. */
export interface BrowserSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** One request the service took (or answered with an error), checked and decrypted. */
export interface ReceivedPush {
  subscriptionId: string;
  /** The decrypted payload, as text and parsed. */
  text: string;
  payload: any;
  /** The VAPID JWT's claims and the application server key the request was signed with. */
  claims: { aud: string; exp: number; sub: string };
  vapidKey: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  at: number;
}

export interface GatewayCall {
  body: any;
  at: number;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
}

/**
 * A Web Push service (RFC 8030) and a push gateway on 127.0.0.1 over real HTTPS, with a
 * self-signed certificate made for this run. Like a browser vendor's service, it refuses a push
 * (400/401/403) whose VAPID JWT (RFC 8292) is not ES256, not for this origin or expired, and
 * decrypts the `aes128gcm` payload (RFC 8291) with the subscription's private key, written here
 * from the RFC with node:crypto so that it checks the web-push package rather than trusting it.
 */
export class FakePushService {
  readonly pushes: ReceivedPush[] = [];
  readonly gatewayCalls: GatewayCall[] = [];
  /** Requests refused for a bad JWT or payload: each one is a defect of the server under test. */
  readonly rejected: string[] = [];
  private readonly subscriptions = new Map<string, { ecdh: ECDH; auth: Buffer }>();
  private readonly answers = new Map<string, Answer[]>();
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly certFile: string,
  ) {}

  /** Starts the service; its certificate goes to `<dir>/push-ca.pem` (give it to NODE_EXTRA_CA_CERTS). */
  static async start(dir: string): Promise<FakePushService> {
    const certFile = join(dir, 'push-ca.pem');
    const keyFile = join(dir, 'push-key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    const server = createServer({ cert: await readFile(certFile), key: await readFile(keyFile) });
    const service = new FakePushService(server, certFile);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const answer = service.take(request.url ?? '', request.headers, Buffer.concat(chunks));
        response.writeHead(answer.status, answer.headers ?? {});
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get origin(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What `pushManager.subscribe` would give a page. */
  subscribe(): BrowserSubscription {
    const id = randomUUID();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.subscriptions.set(id, { ecdh, auth });
    return { id, endpoint: `${this.origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
  }

  /** The URL of a gateway whose calls are recorded. */
  get gatewayUrl(): string {
    return `${this.origin}/gateway/notify`;
  }

  /** The next requests for this subscription are answered with these, in order (then 201). */
  answerWith(subscriptionId: string, ...answers: Answer[]): void {
    this.answers.set(subscriptionId, [...(this.answers.get(subscriptionId) ?? []), ...answers]);
  }

  pushesTo(subscriptionId: string): ReceivedPush[] {
    return this.pushes.filter((push) => push.subscriptionId === subscriptionId);
  }

  /** Waits until `ready()` holds, checked after every request. */
  async until<T>(ready: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = ready();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; rejected: ${JSON.stringify(this.rejected)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(url: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Answer {
    try {
      if (url === '/gateway/notify') {
        this.gatewayCalls.push({ body: JSON.parse(body.toString('utf8')), at: Date.now() });
        return { status: 200 };
      }
      const id = /^\/push\/([0-9a-f-]+)$/.exec(url)?.[1];
      const subscription = id === undefined ? undefined : this.subscriptions.get(id);
      if (id === undefined || subscription === undefined) return this.refuse(404, `unknown push URL ${url}`);
      const vapid = this.checkVapid(headers.authorization);
      if (typeof vapid === 'string') return this.refuse(401, vapid);
      if (headers['content-encoding'] !== 'aes128gcm') return this.refuse(400, `content-encoding ${String(headers['content-encoding'])}`);
      const text = decryptAes128gcm(body, subscription.ecdh, subscription.auth);
      const answer = this.answers.get(id)?.shift() ?? { status: 201 };
      this.pushes.push({ subscriptionId: id, text, payload: JSON.parse(text), ...vapid, headers, status: answer.status, at: Date.now() });
      return answer;
    } catch (err) {
      return this.refuse(400, `bad push: ${(err as Error).message}`);
    } finally {
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private refuse(status: number, why: string): Answer {
    this.rejected.push(why);
    return { status };
  }

  /** RFC 8292: `Authorization: vapid t=<JWT>, k=<key>`, an ES256 JWT for this origin, not expired, at most 24 h ahead. */
  private checkVapid(header: string | string[] | undefined): { claims: ReceivedPush['claims']; vapidKey: string } | string {
    const match = typeof header === 'string' ? /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header) : null;
    if (match === null) return `no vapid Authorization header: ${String(header)}`;
    const [jwt, vapidKey] = [match[1]!, match[2]!];
    const [head, body, signature] = jwt.split('.');
    if (head === undefined || body === undefined || signature === undefined) return 'the JWT has not three parts';
    const alg = (JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string }).alg;
    if (alg !== 'ES256') return `JWT alg ${alg}`;
    const raw = Buffer.from(vapidKey, 'base64url');
    const key = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
      format: 'jwk',
    });
    const signed = verify('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    if (!signed) return 'the JWT signature does not verify with k';
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as ReceivedPush['claims'];
    if (claims.aud !== this.origin) return `JWT aud ${claims.aud}, not ${this.origin}`;
    const now = Date.now() / 1000;
    if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) return `JWT exp ${claims.exp} is not within the next 24 h`;
    if (!/^(mailto:|https:)/.test(claims.sub)) return `JWT sub ${claims.sub}`;
    return { claims, vapidKey };
  }
}

/** RFC 8291 with RFC 8188 framing: one record, the sender's key in the header's keyid. */
export function decryptAes128gcm(body: Buffer, receiver: ECDH, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body.readUInt8(20);
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const ecdhSecret = receiver.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiver.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end).toString('utf8');
}
