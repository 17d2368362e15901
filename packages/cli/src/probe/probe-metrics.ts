/**
 * The probe's own Prometheus metrics, served on `--metrics-port` so it can run as a canary beside
 * the cluster and be alerted on (`courier_probe_anomalies_total` rising means a broken promise).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnomalyKind, Stage } from './promise-checker.js';

export class ProbeMetrics {
  readonly registry = new Registry();
  readonly sent = new Counter({ name: 'courier_probe_messages_sent_total', help: 'Probe messages answered by sent', registers: [this.registry] });
  readonly received = new Counter({ name: 'courier_probe_messages_received_total', help: 'Probe messages received by their recipient', registers: [this.registry] });
  readonly receipts = new Counter({ name: 'courier_probe_receipts_total', help: 'Receipts for probe messages, by status', labelNames: ['status'], registers: [this.registry] });
  readonly anomalies = new Counter({
    name: 'courier_probe_anomalies_total',
    help: 'Broken promises seen by the probe, by kind (unanswered, send_failed, lost, duplicate, reordered, no_delivered_receipt, no_read_receipt)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'courier_probe_latency_seconds',
    help: 'From the send to each stage: sent (stored), received, delivered receipt, read receipt',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly connected = new Gauge({ name: 'courier_probe_connected_accounts', help: 'Probe accounts with a ready connection', registers: [this.registry] });
  readonly pending = new Gauge({ name: 'courier_probe_pending_messages', help: 'Probe messages whose story (received, delivered, read) is not complete', registers: [this.registry] });

  constructor() {
    // Every kind starts at 0, so a rate() or an alert on it exists before the first anomaly.
    for (const kind of ['unanswered', 'send_failed', 'lost', 'duplicate', 'reordered', 'no_delivered_receipt', 'no_read_receipt'] satisfies AnomalyKind[]) {
      this.anomalies.inc({ kind }, 0);
    }
  }

  observe(stage: Stage, ms: number): void {
    this.latency.observe({ stage }, ms / 1000);
  }

  /** Serves `/metrics` on host:port (0 picks a free port); resolves with its URL. */
  async serve(host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    const address = server.address() as AddressInfo;
    const shown = address.address.includes(':') ? `[${address.address}]` : address.address;
    return {
      url: `http://${shown}:${address.port}/metrics`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
}
