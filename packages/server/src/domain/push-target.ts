
/** Where a device that has no socket is woken: a browser's Web Push subscription, or a push gateway. */
export type PushTarget = WebPushTarget | GatewayPushTarget;

/** A browser `PushSubscription` (RFC 8030 endpoint, RFC 8291 keys, base64url). */
export interface WebPushTarget {
  kind: 'webpush';
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** The operator's push gateway for a mobile app (the Sygnal pattern): it holds the FCM/APNs credentials. */
export interface GatewayPushTarget {
  kind: 'gateway';
  url: string;
  pushkey: string;
}


/** One text per target, the same for equal targets (fixed key order): how stores keep and compare them. */
export function serializePushTarget(target: PushTarget): string {
  return target.kind === 'webpush'
    ? JSON.stringify({ kind: 'webpush', endpoint: target.endpoint, keys: { p256dh: target.keys.p256dh, auth: target.keys.auth } })
    : JSON.stringify({ kind: 'gateway', url: target.url, pushkey: target.pushkey });
}

export function parseStoredPushTarget(text: string): PushTarget {
  return JSON.parse(text) as PushTarget;
}
