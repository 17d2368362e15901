/** How receipts move one's own message along its ticks; in a group it takes every other member. */
import type { ReceiptEvent } from 'courier-chat-client';
import type { Status, StoredMessage } from './history.js';

const rank: Record<Status, number> = { failed: -1, pending: 0, sent: 1, delivered: 2, read: 3 };

/** The message after one receipt by `receipt.by`, its status never going backwards. */
export function applyReceipt(message: StoredMessage, receipt: Pick<ReceiptEvent, 'status' | 'by'>, recipients: string[]): StoredMessage {
  const deliveredTo = new Set(message.deliveredTo ?? []);
  const readBy = new Set(message.readBy ?? []);
  deliveredTo.add(receipt.by);
  if (receipt.status === 'read') readBy.add(receipt.by);
  const everyone = (set: Set<string>) => recipients.length > 0 && recipients.every((user) => set.has(user));
  const reached: Status = everyone(readBy) ? 'read' : everyone(deliveredTo) ? 'delivered' : 'sent';
  return { ...message, deliveredTo: [...deliveredTo], readBy: [...readBy], status: later(message.status ?? 'sent', reached) };
}

export function later(a: Status, b: Status): Status {
  return rank[b] > rank[a] ? b : a;
}
