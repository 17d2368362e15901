import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Chat, StoredMessage } from '../history.js';
import { preview, type Messenger } from '../messenger.js';
import { PaperclipIcon, SendIcon } from './icons.js';

/** What the next Send does besides sending: answer a message, or replace one's own text. */
export interface Draft {
  kind: 'reply' | 'edit';
  message: StoredMessage;
  /** The text shown now (after edits). */
  text: string;
}

/** The message box, Send, and Attach (any file; images get a thumbnail). Enter sends. */
export function Composer({ messenger: m, chat, draft, onDraftDone }: { messenger: Messenger; chat: Chat; draft: Draft | undefined; onDraftDone: () => void }) {
  const [text, setText] = useState('');
  const files = useRef<HTMLInputElement>(null);
  const input = useRef<HTMLInputElement>(null);

  // Before the browser paints, so what one types next is never overwritten by the draft's text.
  useLayoutEffect(() => {
    if (draft?.kind === 'edit') setText(draft.text);
    if (draft !== undefined) input.current?.focus();
  }, [draft]);

  const send = (event: Event) => {
    event.preventDefault();
    const body = text.trim();
    if (body === '') return;
    setText('');
    const target = draft?.message.serverId;
    if (draft?.kind === 'edit' && target !== undefined) void m.edit(chat.id, target, body);
    else void m.sendText(chat.id, body, draft?.kind === 'reply' ? target : undefined);
    onDraftDone();
  };

  const cancel = () => {
    if (draft?.kind === 'edit') setText('');
    onDraftDone();
  };

  const attach = (event: Event) => {
    const chosen = event.currentTarget as HTMLInputElement;
    for (const file of Array.from(chosen.files ?? [])) void m.sendFile(chat.id, file);
    chosen.value = '';
  };

  return (
    <form class="composer" onSubmit={send} onKeyDown={(e) => e.key === 'Escape' && draft !== undefined && cancel()}>
      {draft !== undefined && (
        <div class="draft">
          <span>
            {draft.kind === 'reply' ? `Replying to ${draft.message.from === m.userId ? 'yourself' : draft.message.from}: ` : 'Editing: '}
            <q>{draft.kind === 'reply' ? draft.text || preview(draft.message) : draft.text}</q>
          </span>
          <button type="button" onClick={cancel}>
            {draft.kind === 'reply' ? 'Cancel reply' : 'Cancel edit'}
          </button>
        </div>
      )}
      <button type="button" class="icon" aria-label="Attach" title="Attach a photo or file" onClick={() => files.current?.click()}>
        <PaperclipIcon />
      </button>
      <input ref={files} type="file" multiple hidden onChange={attach} />
      <input
        ref={input}
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
