/**
 * A long-running command (`listen`, `chat`) and a short one (`send`) of the same profile are the
 * same device: the short one's connection replaces the long one's (4002) for a moment. The long
 * one comes back after a pause, and gives up only if something keeps taking over.
 */
import type { CourierClient } from 'courier-chat-client/node';

const pauseMs = 6_000;
const maxReplaced = 5;
const windowMs = 120_000;

export interface ComeBack {
  /** Cancels a pending return (when the command stops). */
  cancel(): void;
}

export function comeBackWhenReplaced(client: CourierClient, note: (line: string) => void, giveUp: (err: Error) => void): ComeBack {
  let retry: ReturnType<typeof setTimeout> | undefined;
  let recent: number[] = [];
  client.on('replaced', () => {
    const now = Date.now();
    recent = [...recent.filter((t) => now - t < windowMs), now];
    if (recent.length > maxReplaced) {
      giveUp(new Error('another connection of this device keeps taking over (is another "courier listen" or "courier chat" running with this profile?)'));
      return;
    }
    note(`another connection of this device took over (a "courier send"?); back in ${pauseMs / 1000} s`);
    retry = setTimeout(() => {
      client.connect().catch((err: unknown) => note(`reconnecting failed: ${err instanceof Error ? err.message : String(err)}`));
    }, pauseMs);
  });
  return { cancel: () => clearTimeout(retry) };
}
