import { HttpClient } from './http-client.js';

/** The V8 heap as the server itself reports it on `/metrics` (prom-client's default metrics). */
export interface ServerHeap {
  heapUsed: number;
  external?: number;
}

/** Undefined when the server has no `/metrics` or does not export the heap gauge. */
export async function readServerHeap(baseUrl: string): Promise<ServerHeap | undefined> {
  const http = new HttpClient(baseUrl, 1);
  try {
    const response = await http.get('/metrics');
    if (response.status !== 200 || typeof response.body !== 'string') return undefined;
    const gauge = (name: string) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(response.body as string);
      return match === null ? undefined : Number(match[1]);
    };
    const heapUsed = gauge('nodejs_heap_size_used_bytes');
    if (heapUsed === undefined) return undefined;
    const external = gauge('nodejs_external_memory_bytes');
    return { heapUsed, ...(external !== undefined && { external }) };
  } finally {
    http.close();
  }
}
