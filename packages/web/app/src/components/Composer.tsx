import { useRef, useState } from 'preact/hooks';
import type { Chat } from '../history.js';
import type { Messenger } from '../messenger.js';
import { PaperclipIcon, SendIcon } from './icons.js';

/** The message box, Send, and Attach (any file; images get a thumbnail). Enter sends. */
export function Composer({ messenger: m, chat }: { messenger: Messenger; chat: Chat }) {
  const [text, setText] = useState('');
  const files = useRef<HTMLInputElement>(null);

  const send = (event: Event) => {
    event.preventDefault();
    const body = text.trim();
    if (body === '') return;
    setText('');
    void m.sendText(chat.id, body);
  };

  const attach = (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    for (const file of Array.from(input.files ?? [])) void m.sendFile(chat.id, file);
    input.value = '';
  };

  return (
    <form class="composer" onSubmit={send}>
      <button type="button" class="icon" aria-label="Attach" title="Attach a photo or file" onClick={() => files.current?.click()}>
        <PaperclipIcon />
      </button>
      <input ref={files} type="file" multiple hidden onChange={attach} />
      <input
        type="text"
        aria-label="Message"
        placeholder="Type a message"
        autocomplete="off"
        value={text}
        autofocus
        onInput={(e) => {
          setText(e.currentTarget.value);
          if (e.currentTarget.value !== '') m.typed(chat.id);
        }}
      />
      <button type="submit" class="icon" aria-label="Send" title="Send">
        <SendIcon />
      </button>
    </form>
  );
}
