import { connect, type Socket } from 'node:net';

/**
 * POSTs each JSON body on a TCP connection of its own. Every request but its last byte is
 * written first; once the server has had time to read those, the last bytes are written in one
 * synchronous loop, so the requests complete at the server at the same moment, in order.
 * Answers the HTTP status and body of each, in the same order as `bodies`.
 */
export async function simultaneousPosts(baseUrl: string, path: string, bodies: unknown[]): Promise<HttpAnswer[]> {
  const { hostname, port } = new URL(baseUrl);
  const sockets = await Promise.all(bodies.map(() => open(hostname, Number(port))));
  const answers = sockets.map(answerOf);
  const requests = bodies.map((value) => {
    const body = JSON.stringify(value);
    return (
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    );
  });
  sockets.forEach((socket, index) => socket.write(requests[index]!.slice(0, -1)));
  await new Promise((resolve) => setTimeout(resolve, 50));
  sockets.forEach((socket, index) => socket.write(requests[index]!.slice(-1)));
  return Promise.all(answers);
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** The one response the socket carries (the server closes after it). */
function answerOf(socket: Socket): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.once('error', reject);
    socket.once('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const bodyStart = text.indexOf('\r\n\r\n');
      if (match) resolve({ status: Number(match[1]), body: bodyStart < 0 ? '' : text.slice(bodyStart + 4) });
      else reject(new Error(`no HTTP response on the socket: ${JSON.stringify(text.slice(0, 200))}`));
    });
  });
}
