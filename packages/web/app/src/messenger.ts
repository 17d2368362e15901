/**
 * The signed-in app's state and actions, over the SDK's browser core. Components read the fields
 * and call the methods; every change calls the listeners, and the app renders again.
 *
 * Durable events are written to IndexedDB inside the SDK's handlers, which the SDK awaits before it
 * acks: a message the server has deleted is always already in this browser's history.
 */
import { conversationId, CourierClient, type ActionEvent, type GroupEvent, type MediaRef, type MessageEvent, type MessageView, type ReceiptEvent, type SentAnswer } from 'courier-chat-client';
import { foldViews } from './fold.js';
import { newId } from './format.js';
import { History, type Chat, type StoredAction, type StoredMessage } from './history.js';
import { makeThumbnail, uploadWithProgress } from './media.js';
import { askForNotifications, notifyHidden } from './notifications.js';
import { disablePush, enablePush } from './push.js';
import { applyReceipt, later } from './receipts.js';
import { forgetSession, sdkStorage, type SavedSession } from './saved-session.js';

export interface Presence {
  online: boolean;
  lastSeen?: number;
}

export interface Upload {
  chat: string;
  name: string;
  fraction: number;
}

export type Connection = 'connecting' | 'online' | 'offline';

/** How long a "typing…" lasts without a renewal (the sender renews every few seconds). */
const typingShownMs = 6_000;
const typingRenewMs = 3_000;

export class Messenger {
  readonly userId: string;
  /** This browser's device: 1 the primary (registered by SMS), 2 and up linked (v2 servers). */
  deviceId: number | undefined;
  readonly client: CourierClient;
  chats = new Map<string, Chat>();
  openChat: string | undefined;
  messages: StoredMessage[] = [];
  /** Edits, deletes and reactions of the open chat. */
  actions: StoredAction[] = [];
  presence = new Map<string, Presence>();
  /** chat → who is typing there, until when. */
  typing = new Map<string, { user: string; until: number }>();
  uploads = new Map<string, Upload>();
  connection: Connection = 'connecting';
  /** A problem worth telling the person (a failed upload, an unknown number, ...). */
  notice: string | undefined;
  readonly #listeners = new Set<() => void>();
  readonly #history: History;
  /** Receipts that came before the `sent` of their message (after a reload mid-send). */
  readonly #earlyReceipts = new Map<string, ReceiptEvent[]>();
  #typingSentAt = 0;
  #stopped = false;
  #pushTried = false;
  /** Every read-modify-write of the history, one after the other (a receipt must see its `sent`). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    session: SavedSession,
    history: History,
    private readonly signedOut: (reason?: string) => void,
  ) {
    this.userId = session.userId;
    this.#history = history;
    this.client = new CourierClient({
      url: serverBase(),
      token: session.token,
      storage: sdkStorage(session.userId),
      // A person waits at the screen: retry sooner than the SDK's 30 s ceiling.
      backoff: { maxDelayMs: 5_000 },
    });
    this.client.on('message', (m) => this.#serially(() => this.#onMessage(m)));
    this.client.on('receipt', (r) => this.#serially(() => this.#onReceipt(r)));
    this.client.on('group', (g) => this.#serially(() => this.#onGroup(g)));
    for (const kind of ['edit', 'delete', 'reaction'] as const) this.client.on(kind, (a) => this.#serially(() => this.#onAction(a)));
    this.client.on('typing', (t) => {
      const chat = t.to.startsWith('+') ? t.from : t.to;
      if (t.active) this.typing.set(chat, { user: t.from, until: Date.now() + typingShownMs });
      else this.typing.delete(chat);
      this.#changed();
      if (t.active) setTimeout(() => this.#changed(), typingShownMs + 50);
    });
    this.client.on('presence', (p) => {
      this.presence.set(p.user, p.online ? { online: true } : { online: false, ...(p.lastSeen !== undefined && { lastSeen: p.lastSeen }) });
      this.#changed();
    });
    this.client.on('ready', (ready) => {
      this.deviceId = ready.deviceId;
      this.#setConnection('online');
      if (!this.#pushTried) void this.#enablePush();
    });
    this.client.on('disconnected', (d) => {
      if (d.willReconnect) this.#setConnection(navigator.onLine ? 'connecting' : 'offline');
    });
    this.client.on('revoked', () => {
      if (!this.#stopped) void this.signOut('This browser was signed out: the number was registered again, or this device was removed from the account.');
    });
    this.client.on('replaced', () => {
      this.notice = 'Courier is open in another tab or window of this browser; this one stopped.';
      this.#setConnection('offline');
    });
    this.client.on('error', (err) => console.warn('courier client:', err));
  }

  static async start(session: SavedSession, signedOut: (reason?: string) => void): Promise<Messenger> {
    const history = await History.open(session.userId);
    const messenger = new Messenger(session, history, signedOut);
    for (const chat of await history.chats()) messenger.chats.set(chat.id, chat);
    messenger.client.subscribePresence(messenger.#directPeers());
    window.addEventListener('offline', messenger.#wentOffline);
    window.addEventListener('online', messenger.#cameOnline);
    document.addEventListener('visibilitychange', messenger.#visibilityChanged);
    // Messages written while offline before a reload go again with the same ids: the server
    // answers a repeated id with the same `sent` and delivers nothing twice.
    for (const message of await history.pending()) messenger.#dispatch(message);
    messenger.client.connect().catch((err: unknown) => console.warn('courier: not connected', err));
    return messenger;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Chats, the most recently active first. */
  get chatList(): Chat[] {
    return [...this.chats.values()].sort((a, b) => b.lastTs - a.lastTs);
  }

  typingIn(chat: string): string | undefined {
    const typing = this.typing.get(chat);
    return typing !== undefined && typing.until > Date.now() ? typing.user : undefined;
  }

  dismissNotice(): void {
    this.notice = undefined;
    this.#changed();
  }

  // Chats -------------------------------------------------------------------------------

  open(chatId: string | undefined): Promise<void> {
    this.openChat = chatId;
    return this.#serially(async () => {
      if (this.openChat !== chatId) return;
      this.messages = chatId === undefined ? [] : await this.#history.messagesOf(chatId);
      this.actions = chatId === undefined ? [] : await this.#history.actionsOf(chatId);
      this.#changed();
      await this.#markRead();
    });
  }

  /** Opens the direct chat with `phone`, making it if it is new. */
  async startDirect(phone: string): Promise<void> {
    if (!this.chats.has(phone)) {
      await this.#serially(() => this.#putChat({ id: phone, kind: 'direct', name: phone, members: [this.userId, phone], admins: [], lastTs: Date.now(), preview: '', unread: 0 }));
      this.client.subscribePresence([phone]);
    }
    await this.open(phone);
  }

  async createGroup(name: string, members: string[]): Promise<void> {
    const group = await this.client.createGroup(name, members);
    await this.#serially(() => {
      // The server's `group` event may have made the chat already: keep its activity.
      const known = this.chats.get(group.groupId);
      return this.#putChat({
        id: group.groupId,
        kind: 'group',
        name: group.name,
        members: group.members,
        admins: group.admins,
        lastTs: known?.lastTs ?? Date.now(),
        preview: known?.preview ?? '',
        unread: known?.unread ?? 0,
      });
    });
    await this.open(group.groupId);
  }

  async changeMembers(groupId: string, change: { add?: string[]; remove?: string[] }): Promise<void> {
    const group = await this.client.changeMembers(groupId, change);
    await this.#serially(async () => {
      const chat = this.chats.get(groupId);
      if (chat !== undefined) await this.#putChat({ ...chat, name: group.name, members: group.members, admins: group.admins, left: !group.members.includes(this.userId) });
    });
  }

  /** Tells the senders that the open chat's messages were read, while the page is visible. */
  markRead(): Promise<void> {
    return this.#serially(() => this.#markRead());
  }

  async #markRead(): Promise<void> {
    const chatId = this.openChat;
    if (chatId === undefined || document.visibilityState !== 'visible') return;
    const unseen = this.messages.filter((m) => m.from !== this.userId && m.seen !== true && m.serverId !== undefined);
    if (unseen.length > 0) {
      this.client.read(unseen.map((m) => m.serverId!));
      for (const message of unseen) {
        const seen = { ...message, seen: true };
        await this.#history.putMessage(seen);
        this.#replaceShown(seen);
      }
    }
    const chat = this.chats.get(chatId);
    if (chat !== undefined && chat.unread > 0) await this.#putChat({ ...chat, unread: 0 });
    this.#changed();
  }

  // Sending -------------------------------------------------------------------------------

  /** The open chat's messages after edits, deletes and reactions, by serverId. */
  views(): Map<string, MessageView> {
    return foldViews(this.messages, this.actions);
  }

  async sendText(chatId: string, body: string, replyTo?: string): Promise<void> {
    this.#stopTyping(chatId);
    await this.#send(chatId, { body, ...(replyTo !== undefined && { replyTo }) });
  }

  edit(chatId: string, target: string, body: string): Promise<void> {
    return this.#act(chatId, target, (id) => this.client.edit(chatId, target, body, id), { type: 'edit', body });
  }

  deleteForEveryone(chatId: string, target: string): Promise<void> {
    return this.#act(chatId, target, (id) => this.client.deleteForEveryone(chatId, target, id), { type: 'delete' });
  }

  /** One emoji per person and message; `""` takes it back. */
  react(chatId: string, target: string, emoji: string): Promise<void> {
    return this.#act(chatId, target, (id) => this.client.react(chatId, target, emoji, id), { type: 'reaction', emoji });
  }

  async sendFile(chatId: string, file: File): Promise<void> {
    const uploadId = newId();
    this.uploads.set(uploadId, { chat: chatId, name: file.name, fraction: 0 });
    this.#changed();
    try {
      const mime = file.type === '' ? 'application/octet-stream' : file.type;
      const thumbnail = mime.startsWith('image/') ? await makeThumbnail(file) : undefined;
      const stored = await uploadWithProgress(serverBase(), this.client.token!, file, mime, (fraction) => {
        this.uploads.set(uploadId, { chat: chatId, name: file.name, fraction });
        this.#changed();
      });
      const media: MediaRef = { ...stored, ...(thumbnail !== undefined && { thumbnail }), caption: file.name };
      await this.#send(chatId, { media });
    } catch (err) {
      this.notice = `Could not send ${file.name}: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.uploads.delete(uploadId);
      this.#changed();
    }
  }

  /** Says "typing…" to the open chat, at most every few seconds. */
  typed(chatId: string): void {
    const now = Date.now();
    if (now - this.#typingSentAt < typingRenewMs) return;
    this.#typingSentAt = now;
    this.client.typing(chatId, true);
  }

  async download(hash: string): Promise<Blob> {
    const response = await this.client.download(hash);
    return response.blob();
  }

  // Notifications ----------------------------------------------------------------------------

  /** Whether to offer "Enable notifications" (the browser has not been asked yet). */
  get notificationsUndecided(): boolean {
    return typeof Notification !== 'undefined' && Notification.permission === 'default';
  }

  async enableNotifications(): Promise<void> {
    await askForNotifications();
    this.#changed();
    await this.#enablePush();
  }

  async #enablePush(): Promise<void> {
    // Not decided yet (the question asked on "Verify" may still be open): try again on the next ready.
    this.#pushTried = typeof Notification !== 'undefined' && Notification.permission !== 'default';
    try {
      await enablePush(this.client);
    } catch (err) {
      // No push service reachable (or none in this browser): notifications still come while the tab is open.
      console.warn('courier: Web Push is not available', err);
    }
  }

  // Signing out ----------------------------------------------------------------------------

  async signOut(reason?: string): Promise<void> {
    await disablePush(this.client).catch((err: unknown) => console.warn('courier: could not remove the push subscription', err));
    this.stop();
    // A linked browser that signs out leaves the account's device list (the primary stays: only a
    // new registration replaces it).
    if (this.deviceId !== undefined && this.deviceId !== 1) {
      await this.client.removeDevice(this.deviceId).catch((err: unknown) => console.warn('courier: could not unlink this browser', err));
    }
    await this.client.close().catch((err: unknown) => console.warn('courier: close failed', err));
    this.#history.close();
    forgetSession(this.userId);
    await History.erase(this.userId).catch((err: unknown) => console.warn('courier: could not erase the local history', err));
    this.signedOut(reason);
  }

  /** Detaches from the page (signing out, or the app unmounting). */
  stop(): void {
    this.#stopped = true;
    window.removeEventListener('offline', this.#wentOffline);
    window.removeEventListener('online', this.#cameOnline);
    document.removeEventListener('visibilitychange', this.#visibilityChanged);
  }

  // Internals ---------------------------------------------------------------------------------

  #send(chatId: string, content: MessageContent): Promise<void> {
    return this.#serially(() => this.#store(chatId, content));
  }

  async #store(chatId: string, content: MessageContent): Promise<void> {
    const message: StoredMessage = { key: `${this.userId} ${newId()}`, chat: chatId, id: '', from: this.userId, ts: Date.now(), status: 'pending', ...content };
    message.id = message.key.slice(this.userId.length + 1);
    await this.#history.putMessage(message);
    await this.#touchChat(chatId, message, false);
    if (this.openChat === chatId) this.messages = [...this.messages, message];
    this.#changed();
    this.#dispatch(message);
  }

  #dispatch(message: StoredMessage): void {
    const send = {
      id: message.id,
      to: message.chat,
      ...(message.body !== undefined && { body: message.body }),
      ...(message.media !== undefined && { media: message.media }),
      ...(message.replyTo !== undefined && { replyTo: message.replyTo }),
    };
    this.client.send(send).then(
      (sent) => this.#serially(() => this.#onSent(message, sent)),
      (err: unknown) => this.#serially(() => this.#onRefused(message, err)),
    );
  }

  async #onSent(message: StoredMessage, sent: SentAnswer): Promise<void> {
    const current = (await this.#history.message(message.key)) ?? message;
    let updated: StoredMessage = { ...current, serverId: sent.serverId, ts: sent.ts, status: later(current.status ?? 'pending', 'sent') };
    for (const receipt of this.#earlyReceipts.get(sent.serverId) ?? []) updated = applyReceipt(updated, receipt, this.#recipients(updated.chat));
    this.#earlyReceipts.delete(sent.serverId);
    await this.#history.putMessage(updated);
    this.#replaceShown(updated);
    this.#changed();
  }

  async #onRefused(message: StoredMessage, err: unknown): Promise<void> {
    // Signing out rejects the sends still waiting; they stay pending for the next sign-in.
    if (this.#stopped) return;
    const failed = { ...message, status: 'failed' as const, error: err instanceof Error ? err.message : String(err) };
    await this.#history.putMessage(failed);
    this.#replaceShown(failed);
    this.notice = `A message was not sent: ${failed.error}`;
    this.#changed();
  }

  async #onMessage(m: MessageEvent): Promise<void> {
    const fromMe = m.from === this.userId;
    const chatId = m.group ?? (fromMe ? m.to : m.from);
    const key = `${m.from} ${m.id}`;
    if ((await this.#history.message(key)) !== undefined) return;
    if (!this.chats.has(chatId)) await this.#learnChat(chatId);
    const message: StoredMessage = { key, chat: chatId, id: m.id, serverId: m.serverId, from: m.from, ts: m.ts };
    if (m.body !== undefined) message.body = m.body;
    if (m.media !== undefined) message.media = m.media;
    if (m.replyTo !== undefined) message.replyTo = m.replyTo;
    if (fromMe) message.status = 'sent';
    await this.#history.putMessage(message);
    const visible = this.openChat === chatId && document.visibilityState === 'visible';
    await this.#touchChat(chatId, message, !fromMe && !visible);
    if (this.openChat === chatId) {
      this.messages = [...this.messages, message];
      await this.#markRead();
    }
    if (!fromMe && document.visibilityState === 'hidden') notifyHidden(this.chats.get(chatId)?.name ?? m.from, preview(message), chatId);
    this.#changed();
  }

  async #onReceipt(r: ReceiptEvent): Promise<void> {
    for (const serverId of r.serverIds) {
      const message = await this.#history.byServerId(serverId);
      if (message === undefined) {
        this.#earlyReceipts.set(serverId, [...(this.#earlyReceipts.get(serverId) ?? []), r]);
        continue;
      }
      let updated: StoredMessage;
      if (message.from !== this.userId) {
        // "You read these elsewhere": another device of this account read them.
        if (message.seen === true) continue;
        updated = { ...message, seen: true };
        const chat = this.chats.get(message.chat);
        if (chat !== undefined && chat.unread > 0) await this.#putChat({ ...chat, unread: chat.unread - 1 });
      } else {
        updated = applyReceipt(message, r, this.#recipients(message.chat));
      }
      await this.#history.putMessage(updated);
      this.#replaceShown(updated);
    }
    this.#changed();
  }

  /**
   * An action is sent like a message and kept, once the server stored it, as the event the others
   * get; so one's own edits fold exactly like everyone else's.
   */
  async #act(chatId: string, target: string, submit: (id: string) => Promise<SentAnswer>, what: ActionBody): Promise<void> {
    const id = newId();
    try {
      const sent = await submit(id);
      await this.#serially(() => this.#onAction({ ...what, seq: 0, serverId: sent.serverId, id, from: this.userId, to: chatId, ts: sent.ts, target } as ActionEvent));
    } catch (err) {
      this.notice = `That did not work: ${err instanceof Error ? err.message : String(err)}`;
      this.#changed();
    }
  }

  async #onAction(a: ActionEvent): Promise<void> {
    const action: StoredAction = { ...a, chat: conversationId(a, this.userId) };
    await this.#history.putAction(action);
    if (action.chat === this.openChat && !this.actions.some((known) => known.serverId === action.serverId)) this.actions = [...this.actions, action];
    this.#changed();
  }

  async #onGroup(g: GroupEvent): Promise<void> {
    if (g.groupId === undefined) return;
    const chat = this.chats.get(g.groupId);
    const members = g.members ?? chat?.members ?? [];
    await this.#putChat({
      id: g.groupId,
      kind: 'group',
      name: g.name ?? chat?.name ?? 'Group',
      members,
      admins: g.admins ?? chat?.admins ?? [],
      lastTs: Math.max(chat?.lastTs ?? 0, g.ts ?? Date.now()),
      preview: chat?.preview ?? (g.change === 'created' ? `${g.by === this.userId ? 'You' : g.by} created the group` : ''),
      unread: chat?.unread ?? 0,
      left: !members.includes(this.userId),
    });
    this.#changed();
  }

  /** A chat first heard of through a message: a direct chat, or a group to look up. */
  async #learnChat(chatId: string): Promise<void> {
    const base = { lastTs: 0, preview: '', unread: 0 };
    if (chatId.startsWith('+')) {
      await this.#putChat({ id: chatId, kind: 'direct', name: chatId, members: [this.userId, chatId], admins: [], ...base });
      this.client.subscribePresence([chatId]);
      return;
    }
    try {
      const group = await this.client.getGroup(chatId);
      await this.#putChat({ id: chatId, kind: 'group', name: group.name, members: group.members, admins: group.admins, ...base });
    } catch (err) {
      // Left or removed since: the message is still shown, under the group's id.
      console.warn('courier: group lookup failed', err);
      await this.#putChat({ id: chatId, kind: 'group', name: chatId, members: [], admins: [], ...base, left: true });
    }
  }

  async #touchChat(chatId: string, message: StoredMessage, unread: boolean): Promise<void> {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return;
    const mine = message.from === this.userId;
    const who = mine ? 'You: ' : chat.kind === 'group' ? `${message.from}: ` : '';
    await this.#putChat({
      ...chat,
      lastTs: Math.max(chat.lastTs, message.ts),
      preview: who + preview(message),
      unread: chat.unread + (unread ? 1 : 0),
    });
  }

  async #putChat(chat: Chat): Promise<void> {
    this.chats.set(chat.id, chat);
    await this.#history.putChat(chat);
    this.#changed();
  }

  #replaceShown(message: StoredMessage): void {
    if (message.chat !== this.openChat) return;
    this.messages = this.messages.map((m) => (m.key === message.key ? message : m)).sort((a, b) => a.ts - b.ts);
  }

  #recipients(chatId: string): string[] {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return [chatId];
    return chat.kind === 'direct' ? [chat.id] : chat.members.filter((member) => member !== this.userId);
  }

  #directPeers(): string[] {
    return [...this.chats.values()].filter((c) => c.kind === 'direct').map((c) => c.id);
  }

  #stopTyping(chatId: string): void {
    if (this.#typingSentAt === 0) return;
    this.#typingSentAt = 0;
    this.client.typing(chatId, false);
  }

  #setConnection(connection: Connection): void {
    this.connection = connection;
    this.#changed();
  }

  readonly #wentOffline = (): void => {
    this.#setConnection('offline');
    // The browser knows the network is gone: drop the socket now rather than at the next heartbeat.
    this.client.reconnect();
  };

  readonly #cameOnline = (): void => {
    if (this.connection !== 'online') this.#setConnection('connecting');
  };

  readonly #visibilityChanged = (): void => {
    void this.markRead();
  };

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch((err: unknown) => console.warn('courier: a history update failed', err));
    return result;
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

type MessageContent = Pick<StoredMessage, 'body' | 'media' | 'replyTo'>;
type ActionBody = { type: 'edit'; body: string } | { type: 'delete' } | { type: 'reaction'; emoji: string };

export function preview(message: Pick<StoredMessage, 'body' | 'media'>): string {
  if (message.body !== undefined && message.body !== '') return message.body;
  if (message.media === undefined) return '';
  return message.media.mime.startsWith('image/') ? 'Photo' : `File: ${message.media.caption ?? 'unnamed'}`;
}

/** The server is where the app was loaded from (a path prefix behind a proxy included). */
export function serverBase(): string {
  return new URL('.', location.href).toString();
}
