import { useState } from 'preact/hooks';
import { listTime, normalizePhone } from '../format.js';
import type { Chat } from '../history.js';
import type { Messenger } from '../messenger.js';
import { PeerStatus } from './PeerStatus.js';

/** Search box (a phone number starts a new chat) and the chats, most recent first. */
export function ChatList({ messenger: m }: { messenger: Messenger }) {
  const [query, setQuery] = useState('');
  const phone = normalizePhone(query);
  const needle = query.trim().toLowerCase();
  const chats = m.chatList.filter((chat) => needle === '' || chat.name.toLowerCase().includes(needle) || chat.id.includes(needle));

  const startChat = (event: Event) => {
    event.preventDefault();
    if (phone === undefined) return;
    setQuery('');
    void m.startDirect(phone);
  };

  return (
    <>
      <form class="search" onSubmit={startChat} role="search">
        <input type="text" aria-label="Search or new chat" placeholder="Search or new chat (+15551234567)" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        {phone !== undefined && phone !== m.userId && !m.chats.has(phone) && <button type="submit">Chat with {phone}</button>}
      </form>
      <ul class="chats" aria-label="Chat list">
        {chats.map((chat) => (
          <li key={chat.id}>
            <button type="button" class="chat" aria-current={chat.id === m.openChat ? 'true' : undefined} onClick={() => void m.open(chat.id)}>
              <span class="avatar" aria-hidden="true">{initials(chat)}</span>
              <span class="title">{chat.name}</span>
              <span class="when">{chat.lastTs > 0 ? listTime(chat.lastTs) : ''}</span>
              <span class="preview">{m.typingIn(chat.id) !== undefined ? 'typing…' : chat.preview}</span>
              {chat.kind === 'direct' && <PeerStatus presence={m.presence.get(chat.id)} short />}
              {chat.unread > 0 && <span class="unread">{chat.unread}<span class="sr"> unread</span></span>}
            </button>
          </li>
        ))}
      </ul>
      {chats.length === 0 && <p class="empty">No chats yet. Type a phone number above to start one.</p>}
    </>
  );
}

/** Two letters for the avatar: a group's initials, or a number's last two digits. */
function initials(chat: Chat): string {
  if (chat.kind === 'direct') return chat.name.slice(-2);
  const words = chat.name.split(/\s+/).filter((w) => w !== '');
  return words.slice(0, 2).map((w) => [...w][0]!.toUpperCase()).join('');
}
