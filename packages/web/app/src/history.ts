/**
 * The device's history in IndexedDB. The server deletes a message once it is delivered, so this
 * browser is where the conversation lives: every message is written here before it is acked.
 * One database per account, so two accounts used in one browser never mix.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ActionEvent, MediaRef } from 'courier-chat-client';

/** Where one's own message stands: ✓ stored (sent), ✓✓ delivered, blue ✓✓ read. */
export type Status = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface StoredMessage {
  /** `<from> <client id>`: client ids are unique per sender. */
  key: string;
  /** The userId of the peer of a direct chat, or the groupId. */
  chat: string;
  id: string;
  serverId?: string;
  from: string;
  ts: number;
  body?: string;
  media?: MediaRef;
  /** The serverId of the message this one answers. */
  replyTo?: string;
  /** Own messages only. */
  status?: Status;
  error?: string;
  /** Own messages: who acknowledged (delivered) or read it, for groups where that takes everyone. */
  deliveredTo?: string[];
  readBy?: string[];
  /** Received messages: a read receipt went out (or it was read on another device). */
  seen?: boolean;
}

/** An edit, delete or reaction, kept as it came (own ones as the server stored them) and folded when shown. */
export type StoredAction = ActionEvent & { chat: string };

export interface Chat {
  id: string;
  kind: 'direct' | 'group';
  name: string;
  members: string[];
  admins: string[];
  lastTs: number;
  preview: string;
  unread: number;
  /** Groups: this account is no longer a member. */
  left?: boolean;
}

interface HistorySchema extends DBSchema {
  chats: { key: string; value: Chat };
  messages: { key: string; value: StoredMessage; indexes: { chat: string; serverId: string; status: string } };
  actions: { key: string; value: StoredAction; indexes: { chat: string } };
}

export class History {
  private constructor(private readonly db: IDBPDatabase<HistorySchema>) {}

  static async open(userId: string): Promise<History> {
    const db = await openDB<HistorySchema>(databaseName(userId), 2, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          db.createObjectStore('chats', { keyPath: 'id' });
          const messages = db.createObjectStore('messages', { keyPath: 'key' });
          messages.createIndex('chat', 'chat');
          messages.createIndex('serverId', 'serverId');
          messages.createIndex('status', 'status');
        }
        if (oldVersion < 2) db.createObjectStore('actions', { keyPath: 'serverId' }).createIndex('chat', 'chat');
      },
    });
    return new History(db);
  }

  static async erase(userId: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(databaseName(userId));
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error('could not delete the local history'));
      // Another tab still has it open: it is deleted once that tab lets go.
      request.onblocked = () => resolve();
    });
  }

  chats(): Promise<Chat[]> {
    return this.db.getAll('chats');
  }

  async putChat(chat: Chat): Promise<void> {
    await this.db.put('chats', chat);
  }

  async messagesOf(chat: string): Promise<StoredMessage[]> {
    const all = await this.db.getAllFromIndex('messages', 'chat', chat);
    return all.sort((a, b) => a.ts - b.ts);
  }

  message(key: string): Promise<StoredMessage | undefined> {
    return this.db.get('messages', key);
  }

  byServerId(serverId: string): Promise<StoredMessage | undefined> {
    return this.db.getFromIndex('messages', 'serverId', serverId);
  }

  pending(): Promise<StoredMessage[]> {
    return this.db.getAllFromIndex('messages', 'status', 'pending');
  }

  async putMessage(message: StoredMessage): Promise<void> {
    await this.db.put('messages', message);
  }

  actionsOf(chat: string): Promise<StoredAction[]> {
    return this.db.getAllFromIndex('actions', 'chat', chat);
  }

  async putAction(action: StoredAction): Promise<void> {
    await this.db.put('actions', action);
  }

  close(): void {
    this.db.close();
  }
}

function databaseName(userId: string): string {
  return `courier-history-${userId}`;
}
