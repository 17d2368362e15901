import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Chat } from '../history.js';
import type { Messenger } from '../messenger.js';
import { Composer } from './Composer.js';
import { GroupInfo } from './GroupInfo.js';
import { MessageItem } from './MessageItem.js';
import { PeerStatus } from './PeerStatus.js';

/** One chat: who it is with and how they are, the messages, uploads in progress, the composer. */
export function Conversation({ messenger: m, chat }: { messenger: Messenger; chat: Chat }) {
  const [info, setInfo] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const typist = m.typingIn(chat.id);
  const uploads = [...m.uploads.entries()].filter(([, upload]) => upload.chat === chat.id);

  useLayoutEffect(() => {
    const element = list.current;
    if (element !== null) element.scrollTop = element.scrollHeight;
  }, [m.messages.length, uploads.length]);
  useEffect(() => setInfo(false), [chat.id]);

  return (
    <section class="conversation" aria-label={`Conversation with ${chat.name}`}>
      <header class="bar">
        <button type="button" class="back" onClick={() => void m.open(undefined)} aria-label="Back to chats">←</button>
        <div class="who">
          <h2>{chat.name}</h2>
          <p class="status" aria-live="polite">
            {typist !== undefined ? (
              chat.kind === 'group' ? `${typist} is typing…` : 'typing…'
            ) : chat.kind === 'group' ? (
              `${chat.members.length} members`
            ) : (
              <PeerStatus presence={m.presence.get(chat.id)} />
            )}
          </p>
        </div>
        {chat.kind === 'group' && (
          <button type="button" aria-expanded={info} onClick={() => setInfo(!info)}>
            Group info
          </button>
        )}
      </header>
      {info && <GroupInfo messenger={m} chat={chat} />}
      <ol class="messages" aria-label="Messages" ref={list} tabIndex={0}>
        {m.messages.map((message) => (
          <MessageItem key={message.key} messenger={m} message={message} mine={message.from === m.userId} group={chat.kind === 'group'} />
        ))}
      </ol>
      {uploads.map(([id, upload]) => (
        <div class="upload" key={id}>
          <label>
            Uploading {upload.name}
            <progress max={1} value={upload.fraction} />
          </label>
        </div>
      ))}
      {chat.left === true ? <p class="empty">You are no longer a member of this group.</p> : <Composer messenger={m} chat={chat} />}
    </section>
  );
}
