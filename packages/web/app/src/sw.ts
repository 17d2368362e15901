/**
 * The service worker: shows a notification when the server wakes this offline device through Web
 * Push. The payload carries no message text (`{"type":"wake","unread":N}`), so the notification
 * says how many messages wait; a click opens (or focuses) the app, which then fetches them.
 *
 * Compiled into `sw.js` at the app's root, so its scope covers the whole app. Only the few
 * service-worker types used here are declared, rather than the WebWorker lib, whose globals clash
 * with the DOM lib the rest of the app is checked with.
 */
interface WakePayload {
  type?: string;
  unread?: number;
}

interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

interface PushEventLike extends ExtendableEventLike {
  data: { json(): unknown } | null;
}

interface NotificationEventLike extends ExtendableEventLike {
  notification: Notification;
}

interface WindowClientLike {
  focus(): Promise<unknown>;
}

interface ServiceWorkerScope {
  registration: ServiceWorkerRegistration;
  clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
  };
  addEventListener(type: 'push', listener: (event: PushEventLike) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEventLike) => void): void;
}

const worker = self as unknown as ServiceWorkerScope;

worker.addEventListener('push', (event) => {
  let payload: WakePayload = {};
  try {
    payload = (event.data?.json() ?? {}) as WakePayload;
  } catch (err) {
    // Not JSON: still worth a notification, since the server only pushes when something waits.
    console.warn('courier: unreadable push payload', err);
  }
  const unread = typeof payload.unread === 'number' && payload.unread > 0 ? payload.unread : undefined;
  const body = unread === undefined ? 'New messages' : unread === 1 ? '1 new message' : `${unread} new messages`;
  event.waitUntil(worker.registration.showNotification('Courier', { body, tag: 'courier-wake' }));
});

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    worker.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows[0];
      return open !== undefined ? open.focus() : worker.clients.openWindow(worker.registration.scope);
    }),
  );
});
