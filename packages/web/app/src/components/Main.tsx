import { useEffect, useState } from 'preact/hooks';
import type { Messenger } from '../messenger.js';
import { useMessenger } from '../use-messenger.js';
import { ChatList } from './ChatList.js';
import { ConnectionBanner } from './ConnectionBanner.js';
import { DevicesDialog } from './DevicesDialog.js';
import { Conversation } from './Conversation.js';
import { NewGroupDialog } from './NewGroupDialog.js';

/** The signed-in screen: chat list beside the open conversation (one or the other at phone width). */
export function Main({ messenger }: { messenger: Messenger }) {
  const m = useMessenger(messenger);
  const [newGroup, setNewGroup] = useState(false);
  const [devices, setDevices] = useState(false);
  const open = m.openChat === undefined ? undefined : m.chats.get(m.openChat);
  const unread = m.chatList.reduce((sum, chat) => sum + chat.unread, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Courier` : 'Courier';
  }, [unread]);

  return (
    <div class={`app${open !== undefined ? ' chat-open' : ''}`}>
      <ConnectionBanner connection={m.connection} />
      {m.notice !== undefined && (
        <div role="alert" class="notice">
          {m.notice}
          <button type="button" onClick={() => m.dismissNotice()}>Dismiss</button>
        </div>
      )}
      <section class="sidebar" aria-label="Chats">
        <header class="bar">
          <span class="me" title="Signed in as">{m.userId}</span>
          {m.notificationsUndecided && (
            <button type="button" onClick={() => void m.enableNotifications()}>
              Enable notifications
            </button>
          )}
          <button type="button" onClick={() => setNewGroup(true)}>New group</button>
          <button type="button" onClick={() => setDevices(true)}>Devices</button>
          <button type="button" onClick={() => void m.signOut()}>Sign out</button>
        </header>
        <ChatList messenger={m} />
      </section>
      <main class="pane">
        {open !== undefined ? <Conversation key={open.id} messenger={m} chat={open} /> : <p class="empty">Choose a chat, or start one with a phone number.</p>}
      </main>
      {newGroup && <NewGroupDialog messenger={m} onClose={() => setNewGroup(false)} />}
      {devices && <DevicesDialog messenger={m} onClose={() => setDevices(false)} />}
    </div>
  );
}
