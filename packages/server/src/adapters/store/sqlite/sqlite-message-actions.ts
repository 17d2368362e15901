import type { NewActionEvent } from '../../../domain/events.js';
import type { MessageFacts } from '../../../domain/message-actions.js';
import type { SendResult } from '../../../ports/store.js';
import { withEvents, type SqliteInbox } from './sqlite-inbox.js';
import type { FactsRow, SqliteStatements } from './sqlite-statements.js';

/**
 * Actions on earlier messages and disappearing messages, synchronous like SqliteInbox: each
 * method is meant to run inside a transaction (a group commit job).
 */
export class SqliteMessageActions {
  constructor(
    private readonly q: SqliteStatements,
    private readonly inbox: SqliteInbox,
  ) {}

  facts(serverId: string): MessageFacts | undefined {
    const row = this.q.facts.get(serverId);
    return row && toFacts(row);
  }

  store(action: NewActionEvent, recipients: string[], fromDevice: number): SendResult {
    const placed = this.inbox.fanOut(action, recipients, fromDevice, () => {
      if (action.type !== 'delete') return;
      const target = this.facts(action.target);
      if (target === undefined) return;
      this.#deleteCopies(target);
      this.q.forgetFacts.run(target.serverId);
    });
    return withEvents(action, placed);
  }

  expire(now: number, limit: number): number {
    const due = this.q.dueExpiries.all(now, limit).map(toFacts);
    for (const message of due) {
      this.#deleteCopies(message);
      this.q.clearExpiry.run(message.serverId);
    }
    return due.length;
  }

  /** Removes the copies of a message still waiting in the inboxes of its recipients and its author, every device of theirs. */
  #deleteCopies(message: MessageFacts): void {
    this.q.deleteCopies.run(message.serverId, JSON.stringify([...message.recipients, message.author]));
  }
}

function toFacts(row: FactsRow): MessageFacts {
  return { ...row, recipients: JSON.parse(row.recipients) as string[] };
}
