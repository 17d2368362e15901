import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Chat, StoredMessage } from '../history.js';
import type { Messenger } from '../messenger.js';
import { Composer, type Draft } from './Composer.js';
import { GroupInfo } from './GroupInfo.js';
import { MessageItem } from './MessageItem.js';
import { PeerStatus } from './PeerStatus.js';

/** One chat: who it is with and how they are, the messages, uploads in progress, the composer. */
export function Conversation({ messenger: m, chat }: { messenger: Messenger; chat: Chat }) {
  const [info, setInfo] = useState(false);
  const [draft, setDraft] = useState<Draft | undefined>();
  const views = m.views();
  const byServerId = new Map(m.messages.filter((x) => x.serverId !== undefined).map((x) => [x.serverId!, x] as const));
  const list = useRef<HTMLOListElement>(null);
  const typist = m.typingIn(chat.id);
  const uploads = [...m.uploads.entries()].filter(([, upload]) => upload.chat === chat.id);

  useLayoutEffect(() => {
    const element = list.current;
    if (element !== null) element.scrollTop = element.scrollHeight;
  }, [m.messages.length, uploads.length]);
  useEffect(() => {
    setInfo(false);
    setDraft(undefined);
  }, [chat.id]);
  const quoteOf = (message: StoredMessage) => (message.replyTo === undefined ? undefined : byServerId.get(message.replyTo));

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
          <MessageItem
            key={message.key}
            messenger={m}
            message={message}
            view={message.serverId === undefined ? undefined : views.get(message.serverId)}
            quoted={quoteOf(message)}
            mine={message.from === m.userId}
            group={chat.kind === 'group'}
            onDraft={setDraft}
          />
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
      {chat.left === true ? <p class="empty">You are no longer a member of this group.</p> : <Composer messenger={m} chat={chat} draft={draft} onDraftDone={() => setDraft(undefined)} />}
    </section>
  );
}
