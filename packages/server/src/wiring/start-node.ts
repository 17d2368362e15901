import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { OptionError, type Options } from '../config/options.js';
import { GatewayPushSender } from '../adapters/push/gateway/gateway-push-sender.js';
import { makeVapidKeys, WebPushSender, type VapidKeys } from '../adapters/push/web-push/web-push-sender.js';
import { deviceRoutes } from '../gateway/http/routes/device-routes.js';
import { groupRoutes } from '../gateway/http/routes/group-routes.js';
import { mediaRoutes } from '../gateway/http/routes/media-routes.js';
import { DeviceService } from '../services/device-service.js';
import { GroupService } from '../services/group-service.js';
import { MediaService } from '../services/media-service.js';
import { healthRoutes } from '../gateway/http/routes/health-routes.js';
import { metricsRoutes } from '../gateway/http/routes/metrics-routes.js';
import { pushRoutes } from '../gateway/http/routes/push-routes.js';
import { registrationRoutes } from '../gateway/http/routes/registration-routes.js';
import { privacyRoutes } from '../gateway/http/routes/privacy-routes.js';
import { PrivacyService } from '../services/privacy-service.js';
import { webRoutes } from '../gateway/http/routes/web-routes.js';
import { createHttpApp } from '../gateway/http/http-app.js';
import { WsGateway } from '../gateway/ws/ws-gateway.js';
import { AlertMonitor } from '../observability/alerts.js';
import { BacklogSampler } from '../observability/backlog-sampler.js';
import { EventLoopLag } from '../observability/event-loop-lag.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { NodeMetrics } from '../observability/metrics.js';
import { nodeReadings } from '../observability/node-readings.js';
import { TimedStore } from '../observability/timed-store.js';
import { HealthService } from '../services/health-service.js';
import { factsRetentionMs } from '../domain/message-actions.js';
import { MessageActionsService } from '../services/message-actions-service.js';
import { MessagingService } from '../services/messaging-service.js';
import { PresenceService } from '../services/presence-service.js';
import { PushHosts } from '../services/push/push-hosts.js';
import { PushService } from '../services/push/push-service.js';
import { WakeOnEventsBus } from '../services/push/wake-on-events-bus.js';
import { WakeScheduler } from '../services/push/wake-scheduler.js';
import { RegistrationService } from '../services/registration-service.js';
import { newKey } from '../services/secrets.js';
import { PresenceReconciler } from '../session/presence-reconciler.js';
import { SessionRegistry } from '../session/session-registry.js';
import { selectBlobStore, selectBus, selectHttpRateRedis, selectSms, selectStore } from './select-adapters.js';
import { limitHttpRate } from '../gateway/http/http-rate-limit.js';

export interface CourierNode {
  readonly url: string;
  readonly nodeId: string;
  /** Where /metrics is served when --metrics-port moved it off the main port. */
  readonly metricsUrl?: string;
  readonly logger: Logger;
  /** Graceful stop: stop accepting, close sockets with 1012, finish writes, close the store. */
  stop(): Promise<void>;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** How often a cluster node looks for watched users whose node died (their entries expire in 15 s). */
const PRESENCE_CHECK_MS = 5_000;
/** Link approvals (right or wrong codes) one account may try per 10 minutes: codes cannot be guessed. */
const LINK_APPROVALS_PER_WINDOW = 30;
/** How long one request to a push service or gateway may take. */
const PUSH_TIMEOUT_MS = 10_000;

/** What an embedding program (a test, say) may replace. */
export interface NodeOverrides {
  /** The clock of messages, action windows and expiry (default Date.now). */
  now?: () => number;
}

/** How long after a message its recipients and author may react to it (the contract's 30 days). */
const REACT_WINDOW_MS = 30 * DAY;

/** Builds one node from its options (the adapters chosen by URL) and starts listening. */
export async function startNode(options: Options, overrides: NodeOverrides = {}): Promise<CourierNode> {
  const now = overrides.now ?? Date.now;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new OptionError('--tls-cert and --tls-key go together');
  if (options.codeSecret !== undefined && options.codeSecret.length < 16) throw new OptionError('--code-secret takes at least 16 characters');
  if (options.alertInterval < 10 || options.backlogInterval < 10) throw new OptionError('--alert-interval and --backlog-interval take at least 10 ms');
  const nodeId = options.nodeId ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
  const logger = createLogger(options.logLevel, nodeId);
  const metrics = new NodeMetrics();
  const store = new TimedStore(selectStore(options, logger), metrics);
  const { bus: directory, limiter } = selectBus(options, nodeId, logger, () => metrics.countBusError());
  const sms = selectSms(options);
  const { blobs, kind: mediaStore } = selectBlobStore(options, logger);
  await store.init();
  await blobs.init();

  const pushHosts = new PushHosts(options.pushHosts);
  if (options.pushInterval < 1) throw new OptionError('--push-interval takes at least 1 second');
  if (!/^(mailto:|https:\/\/)/.test(options.pushSubject)) throw new OptionError('--push-subject takes a mailto: or https: URL');
  // Made once per deployment: browsers' subscriptions are bound to this key.
  const vapid = JSON.parse(await store.serverSecret('vapid', JSON.stringify(makeVapidKeys()))) as VapidKeys;
  const wakes = new WakeScheduler(
    {
      store,
      bus: directory,
      limiter,
      senders: {
        webpush: new WebPushSender({ vapid, subject: options.pushSubject, timeoutMs: PUSH_TIMEOUT_MS }),
        gateway: new GatewayPushSender(PUSH_TIMEOUT_MS),
      },
      hosts: pushHosts,
      observer: metrics,
      logger,
    },
    { intervalMs: options.pushInterval * 1000, maxTries: 5 },
  );
  const bus = new WakeOnEventsBus(directory, (device) => wakes.eventsStored(device));
  const push = new PushService(store, pushHosts, vapid.publicKey);

  const registration = new RegistrationService(store, sms, bus, limiter, {
    codeTtlMs: options.codeTtl * 1000,
    codeDigits: 6,
    maxWrongTries: 5,
    codeKey: options.codeSecret ?? (await store.serverSecret('registration-code-key', newKey())),
    ...(!options.noRateLimits && {
      limits: {
        perPhone: options.codeRequestsPerPhone,
        perAddress: options.codeRequestsPerAddress,
        verifiesPerPhone: options.codeVerifiesPerPhone,
        windowMs: 10 * MINUTE,
      },
    }),
  });
  const devices = new DeviceService(store, bus, limiter, {
    maxLinkedDevices: options.maxLinkedDevices,
    linkCodeTtlMs: options.linkCodeTtl * 1000,
    ...(!options.noRateLimits && {
      limits: { linksPerAddress: options.codeRequestsPerAddress, approvalsPerAccount: LINK_APPROVALS_PER_WINDOW, windowMs: 10 * MINUTE },
    }),
  });
  const messaging = new MessagingService(store, bus, now, undefined, (err) => logger.warn({ err }, 'a new-events signal was lost; the recipient reads its inbox on its next wake-up'));
  const windows = { editMs: options.editWindow * 1000, deleteMs: options.deleteWindow * 1000, reactMs: REACT_WINDOW_MS };
  const actions = new MessageActionsService(store, messaging, windows, now);
  const presence = new PresenceService(store, bus);
  const registry = new SessionRegistry(
    (userId, watchers) => presence.audienceOf(userId, watchers),
    (err) => logger.error({ err }, 'presence change not passed on: its audience could not be read'),
  );
  const backlog = new BacklogSampler(store, options.backlogInterval, logger);
  const lag = new EventLoopLag(options.alertInterval);
  const alerts = new AlertMonitor(
    () => nodeReadings(registry, backlog, lag, metrics.pushWindow),
    {
      thresholds: {
        session_queue: options.alertSessionQueue,
        node_queue: options.alertNodeQueue,
        backlog_age: options.alertBacklogAge,
        loop_lag: options.alertLoopLag,
        push_failures: options.alertPushFailures,
      },
      intervalMs: options.alertInterval,
      nodeId,
      logger,
      ...(options.alertWebhook !== undefined && { webhook: options.alertWebhook }),
    },
  );
  metrics.watch({ sessions: registry, backlog, lag, alerts });
  const health = new HealthService(store, bus, () => alerts.firing());
  const groups = new GroupService(store, bus, { maxGroupSize: options.maxGroupSize });
  const media = new MediaService(store, blobs, { maxBytes: options.maxMediaBytes, retentionMs: options.mediaRetentionDays * DAY, quotaBytes: options.mediaQuotaBytes });
  await bus.start({
    onDeviceSignal: (_device, connectionId, signal) => registry.dispatchSignal(connectionId, signal),
    onPresence: (change) => registry.dispatchPresence(change),
  });

  const tls = options.tlsCert === undefined ? undefined : { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey!) };
  const app = createHttpApp({
    logger,
    ...(tls && { tls }),
    trustProxy: options.trustProxy,
    requestTimeoutMs: options.requestTimeout * 1000,
    idleTimeoutMs: options.idleTimeout * 1000,
  });
  const onHttpRateError = (err: unknown) => {
    metrics.countBusError();
    logger.error({ err }, 'redis error of the HTTP rate limit');
  };
  const httpRateRedis = options.noRateLimits ? undefined : await selectHttpRateRedis(options, onHttpRateError);
  if (!options.noRateLimits) {
    await limitHttpRate(app, { perMinute: options.httpRate, ...(httpRateRedis !== undefined && { redis: httpRateRedis }), prefix: options.redisPrefix });
  }
  // With --metrics-port, /metrics is served there only, by an app of its own.
  const metricsApp = options.metricsPort === undefined ? undefined : createHttpApp({ logger, ...(tls && { tls }) });
  registrationRoutes(app, registration);
  healthRoutes(app, health);
  metricsRoutes(metricsApp ?? app, metrics);
  groupRoutes(app, registration, groups);
  mediaRoutes(app, registration, media);
  privacyRoutes(app, registration, new PrivacyService(store, bus));
  deviceRoutes(app, registration, devices);
  pushRoutes(app, registration, push);
  if (options.web) await webRoutes(app, logger);

  const gateway = new WsGateway(
    app.server,
    {
      registration,
      messaging,
      actions,
      presence,
      registry,
      logger,
      observer: metrics.sessionObserver,
      settings: {
        authTimeoutMs: 10_000,
        sendBufferBytes: options.sendBufferBytes,
        maxPresenceUsers: 5000,
        maxFrameBytes: options.maxFrameBytes,
        maxSendsInFlight: options.maxSendsInFlight,
      },
    },
    {
      path: '/v1/ws',
      maxFrameBytes: options.maxFrameBytes,
      heartbeatMs: options.heartbeat * 1000,
      ...(!options.noRateLimits && { framesPerSecond: options.frameRate }),
    },
    logger,
  );

  await app.listen({ port: options.port, host: options.host });
  if (metricsApp !== undefined) await metricsApp.listen({ port: options.metricsPort!, host: options.host });
  lag.reset();
  // Only a cluster loses devices without a word (a node dies); one node always says goodbye.
  const reconciler = options.redisUrl === undefined ? undefined : new PresenceReconciler(registry, presence, PRESENCE_CHECK_MS, logger);
  const { port } = app.server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const metricsUrl = metricsApp && `${tls ? 'https' : 'http'}://${host}:${(metricsApp.server.address() as AddressInfo).port}/metrics`;

  let sweeping: Promise<unknown> = Promise.resolve();
  const sweeper = setInterval(() => {
    sweeping = Promise.all([
      store
        .sweep(now(), { idempotencyMs: 7 * DAY, readTrackingMs: 30 * DAY, messageFactsMs: factsRetentionMs(windows), expiredLinksMs: DAY })
        .catch((err: unknown) => logger.error({ err }, 'store sweep failed')),
      actions.expire().catch((err: unknown) => logger.error({ err }, 'expiry sweep failed')),
      media.sweep().catch((err: unknown) => logger.error({ err }, 'media sweep failed')),
    ]);
  }, MINUTE);
  sweeper.unref();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('stopping: draining sockets');
      health.startDraining();
      clearInterval(sweeper);
      alerts.stop();
      lag.stop();
      // HTTP stays up while the sockets drain, so /readyz answers 503 to the load balancer
      // instead of refusing the connection.
      await gateway.drain();
      devices.stop();
      await app.close();
      await metricsApp?.close();
      httpRateRedis?.disconnect();
      await backlog.stop();
      await reconciler?.stop();
      wakes.stop();
      await sweeping;
      await bus.close();
      await limiter.close();
      await store.close();
      await blobs.close();
      logger.info('stopped');
    })());

  logger.info({ url, store: options.databaseUrl ? 'postgres' : 'sqlite', media: mediaStore, bus: options.redisUrl ? 'redis' : 'memory' }, 'node started');
  return { url, nodeId, logger, stop, ...(metricsUrl !== undefined && { metricsUrl }) };
}
