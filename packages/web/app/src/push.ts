/**
 * Web Push: the service worker subscribes with the server's VAPID key and the subscription becomes
 * this device's push target, so the server can wake it while no socket is open. Needs notification
 * permission, a secure context (https, or localhost) and a browser push service.
 */
import type { CourierClient } from 'courier-chat-client';

export async function enablePush(client: CourierClient): Promise<void> {
  if (!('serviceWorker' in navigator) || typeof PushManager === 'undefined' || Notification.permission !== 'granted') return;
  const registration = await navigator.serviceWorker.register('./sw.js');
  const key = base64UrlBytes(await client.vapidPublicKey());
  let subscription = await registration.pushManager.getSubscription();
  if (subscription !== null && !sameKey(subscription.options.applicationServerKey, key)) {
    // Made for another server key (the server's data was reset): it can no longer be used.
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const { endpoint, keys } = subscription.toJSON();
  if (endpoint === undefined || keys?.p256dh === undefined || keys.auth === undefined) throw new Error('the browser gave a push subscription without keys');
  await client.setPushTarget({ webpush: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } } });
}

/** On signing out: the server forgets the target, the browser the subscription. */
export async function disablePush(client: CourierClient): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (subscription === undefined || subscription === null) return;
  await client.removePushTarget();
  await subscription.unsubscribe();
}

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameKey(current: ArrayBuffer | null, wanted: Uint8Array): boolean {
  if (current === null) return false;
  const bytes = new Uint8Array(current);
  return bytes.length === wanted.length && bytes.every((b, i) => b === wanted[i]);
}
