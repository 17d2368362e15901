/** Desktop notifications for messages that arrive while the tab is hidden. */

/** Asks once, from a click (browsers ignore the request otherwise). */
export async function askForNotifications(): Promise<void> {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  try {
    await Notification.requestPermission();
  } catch (err) {
    console.warn('notification permission request failed', err);
  }
}

export function notifyHidden(title: string, body: string, tag: string): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const notification = new Notification(title, { body, tag });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
