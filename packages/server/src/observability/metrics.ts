import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DurableEvent } from '../domain/events.js';
import type { PushFailure, PushKind, PushObserver } from '../services/push/push-observer.js';
import type { SessionObserver } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { alertNames, type AlertMonitor } from './alerts.js';
import type { BacklogSampler } from './backlog-sampler.js';
import type { EventLoopLag } from './event-loop-lag.js';
import { PushFailureWindow } from './push-failure-window.js';
import { queueStats } from './queue-stats.js';
import type { StoreObserver } from './timed-store.js';

/** What the gauges read at scrape time; they stay empty until `watch` names them. */
export interface MetricSources {
  sessions: SessionRegistry;
  backlog: BacklogSampler;
  lag: EventLoopLag;
  alerts: AlertMonitor;
}

const SEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Up to a day: a message pushed when its recipient comes back online counts its time offline. */
const PUSH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400];
/** From a wake decided to the push service taking it; retries wait seconds to minutes. */
const WAKE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The node's Prometheus metrics, in a registry of its own (never prom-client's global one:
 * several nodes may share a process, as they do in the tests). Names start with `courier_`;
 * the node is the scrape target, so no label names it.
 */
export class NodeMetrics implements StoreObserver, PushObserver {
  readonly prom = new Registry();
  private sources: MetricSources | undefined;

  private readonly sentCount = new Counter({ name: 'courier_messages_sent_total', help: 'Messages stored (a repeated client id is not counted again)', registers: [this.prom] });
  private readonly deliveredCount = new Counter({ name: 'courier_messages_delivered_total', help: 'Messages acked by their recipient (delivered receipts)', registers: [this.prom] });
  private readonly readCount = new Counter({ name: 'courier_messages_read_total', help: 'Messages marked read by their recipient (read receipts)', registers: [this.prom] });
  private readonly storeErrors = new Counter({ name: 'courier_store_errors_total', help: 'Store calls that failed, by operation', labelNames: ['op'], registers: [this.prom] });
  private readonly busErrors = new Counter({ name: 'courier_bus_errors_total', help: 'Errors reported by the bus connection (Redis)', registers: [this.prom] });
  private readonly commit = new Histogram({ name: 'courier_store_commit_seconds', help: 'Time for a store write to commit, by operation', labelNames: ['op'], buckets: COMMIT_BUCKETS, registers: [this.prom] });
  private readonly sendLatency = new Histogram({ name: 'courier_send_seconds', help: 'From a send frame taken up to its sent answer (stored durably)', buckets: SEND_BUCKETS, registers: [this.prom] });
  private readonly pushesSent = new Counter({ name: 'courier_push_notifications_sent_total', help: 'Wakes a push service or gateway took, by target kind', labelNames: ['kind'], registers: [this.prom] });
  private readonly pushesFailed = new Counter({ name: 'courier_push_notifications_failed_total', help: 'Push requests that failed, by target kind and reason (gone, refused, retryable)', labelNames: ['kind', 'reason'], registers: [this.prom] });
  private readonly pushTargetsRemoved = new Counter({ name: 'courier_push_targets_removed_total', help: 'Push targets removed because the push service called them gone (404/410)', labelNames: ['kind'], registers: [this.prom] });
  private readonly wakeLatency = new Histogram({ name: 'courier_push_notification_seconds', help: 'From a wake decided to the push service taking it, retries included', labelNames: ['kind'], buckets: WAKE_BUCKETS, registers: [this.prom] });
  /** What the push_failures alert reads. */
  readonly pushWindow = new PushFailureWindow();
  private readonly pushDelay = new Histogram({ name: 'courier_push_delay_seconds', help: 'From a message being stored to its push to the recipient', buckets: PUSH_BUCKETS, registers: [this.prom] });

  /** The session hooks that feed the latency histograms. */
  readonly sessionObserver: SessionObserver = {
    sent: (latencyMs) => this.sendLatency.observe(latencyMs / 1000),
    pushed: (event: DurableEvent) => {
      // Clocks of different nodes may disagree a little; a delay is never negative.
      if (event.type === 'message') this.pushDelay.observe(Math.max(0, Date.now() - event.ts) / 1000);
    },
  };

  constructor() {
    collectDefaultMetrics({ register: this.prom });
    this.gauge('courier_open_sockets', 'Open sockets (authenticated or not)', (s) => s.sessions.openCount);
    this.gauge('courier_authenticated_sessions', 'Sockets whose device is authenticated', (s) => s.sessions.authenticatedCount);
    this.gauge('courier_outbound_queue_events', 'Events queued for this node\'s sessions: pushed or not, not yet acked', (s) => queueStats(s.sessions).total);
    this.gauge('courier_session_queue_max_events', 'The longest one session\'s queue on this node', (s) => queueStats(s.sessions).largest.events);
    this.gauge('courier_backlog_events', 'Undelivered events in the store, all inboxes (sampled)', (s) => s.backlog.last?.events);
    this.gauge('courier_backlog_oldest_age_seconds', 'Age of the oldest undelivered event in the store, 0 when none (sampled)', (s) => {
      const sample = s.backlog.last;
      if (sample === undefined) return undefined;
      return sample.oldestTs === undefined ? 0 : Math.max(0, Date.now() - sample.oldestTs) / 1000;
    });
    this.gauge('courier_event_loop_lag_seconds', 'Event loop delay, 99th percentile over the last alert interval', (s) => s.lag.last.p99Ms / 1000);
    this.gauge('courier_event_loop_lag_max_seconds', 'Event loop delay, longest over the last alert interval', (s) => s.lag.last.maxMs / 1000);
    const firing: Gauge<'alert'> = new Gauge({
      name: 'courier_alert_firing',
      help: '1 while the alert fires, else 0',
      labelNames: ['alert'],
      registers: [this.prom],
      collect: () => {
        const alerts = this.sources?.alerts;
        if (alerts === undefined) return;
        for (const alert of alertNames) firing.set({ alert }, alerts.isFiring(alert) ? 1 : 0);
      },
    });
  }

  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  /** The Prometheus text exposition and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.prom.metrics(), contentType: this.prom.contentType };
  }

  pushSent(kind: PushKind, seconds: number): void {
    this.pushesSent.inc({ kind });
    this.wakeLatency.observe({ kind }, seconds);
    this.pushWindow.record(false);
  }
  pushFailed(kind: PushKind, failure: PushFailure): void {
    this.pushesFailed.inc({ kind, reason: failure });
    this.pushWindow.record(true);
  }
  pushTargetRemoved(kind: PushKind): void {
    this.pushTargetsRemoved.inc({ kind });
  }

  countBusError(): void {
    this.busErrors.inc();
  }

  committed(op: string, seconds: number): void {
    this.commit.observe({ op }, seconds);
  }
  failed(op: string): void {
    this.storeErrors.inc({ op });
  }
  messagesSent(count: number): void {
    if (count > 0) this.sentCount.inc(count);
  }
  messagesDelivered(count: number): void {
    if (count > 0) this.deliveredCount.inc(count);
  }
  messagesRead(count: number): void {
    if (count > 0) this.readCount.inc(count);
  }

  /** A gauge read at scrape time; undefined leaves it at its last value. */
  private gauge(name: string, help: string, read: (sources: MetricSources) => number | undefined): void {
    const gauge: Gauge = new Gauge({
      name,
      help,
      registers: [this.prom],
      collect: () => {
        const value = this.sources === undefined ? undefined : read(this.sources);
        if (value !== undefined) gauge.set(value);
      },
    });
  }
}
