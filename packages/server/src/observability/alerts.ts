import type { Logger } from './logger.js';

export const alertNames = ['session_queue', 'node_queue', 'backlog_age', 'loop_lag', 'push_failures'] as const;
export type AlertName = (typeof alertNames)[number];

/** One measurement an alert is checked against; `detail` says where (user and conn of a session). */
export interface Reading {
  value: number;
  detail?: Record<string, string>;
}

export interface AlertSettings {
  /** Fires above the threshold; 0 switches the alert off. */
  thresholds: Record<AlertName, number>;
  intervalMs: number;
  /** Told every change of state, as JSON; optional. */
  webhook?: string;
  nodeId: string;
  logger: Logger;
}

/**
 * An alert resolves only once its value is back to this share of the threshold, so a queue
 * hovering around the threshold does not fire and resolve every check.
 */
const RESOLVE_RATIO = 0.9;
const WEBHOOK_TIMEOUT_MS = 5000;

/**
 * Checks the node's queues and loop on a timer. Each alert has two states; only changes of
 * state are told (one log line, one webhook call), so a long incident is one `firing` and one
 * `resolved`, never a line per check.
 */
export class AlertMonitor {
  private readonly firingNow = new Map<AlertName, Reading>();
  private readonly timer: NodeJS.Timeout;
  /** Webhook calls go out one after another so a receiver sees firing before resolved. */
  private webhookChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly measure: () => Record<AlertName, Reading | undefined>,
    private readonly settings: AlertSettings,
  ) {
    this.timer = setInterval(() => this.check(), settings.intervalMs);
    this.timer.unref();
  }

  /** The alerts firing now, in a fixed order. */
  firing(): AlertName[] {
    return alertNames.filter((name) => this.firingNow.has(name));
  }

  isFiring(name: AlertName): boolean {
    return this.firingNow.has(name);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const readings = this.measure();
    for (const name of alertNames) {
      const threshold = this.settings.thresholds[name];
      const reading = readings[name];
      const fired = this.firingNow.get(name);
      // Switched off (never fires), or nothing measured yet (no backlog sample): no change.
      if (threshold === 0 || reading === undefined) continue;
      if (fired === undefined && reading.value > threshold) {
        this.firingNow.set(name, reading);
        this.tell(name, 'firing', reading, threshold);
      } else if (fired !== undefined && reading.value <= threshold * RESOLVE_RATIO) {
        this.firingNow.delete(name);
        // The resolution names what fired (the session that was slow), with today's value.
        this.tell(name, 'resolved', { value: reading.value, ...(fired.detail && { detail: fired.detail }) }, threshold);
      }
    }
  }

  private tell(alert: AlertName, state: 'firing' | 'resolved', reading: Reading, threshold: number): void {
    const value = round(reading.value);
    this.settings.logger.warn({ alert, value, threshold, ...reading.detail }, `alert ${state}`);
    const webhook = this.settings.webhook;
    if (webhook === undefined) return;
    const body = JSON.stringify({ alert, state, value, threshold, node: this.settings.nodeId, at: Date.now(), ...reading.detail });
    this.webhookChain = this.webhookChain.then(() => this.post(webhook, body, alert, state));
  }

  private async post(url: string, body: string, alert: AlertName, state: string): Promise<void> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      // The body is not needed, but it must be read for the connection to be reused.
      await response.arrayBuffer();
      if (!response.ok) this.settings.logger.error({ alert, state, status: response.status }, 'alert webhook refused the alert');
    } catch (err) {
      this.settings.logger.error({ err, alert, state }, 'alert webhook failed');
    }
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
