import { useState } from 'preact/hooks';
import type { MessageView } from 'courier-chat-client';
import { clockTime, fileSize } from '../format.js';
import type { Status, StoredMessage } from '../history.js';
import { saveFile } from '../media.js';
import type { Messenger } from '../messenger.js';
import type { Draft } from './Composer.js';
import { ClockIcon } from './icons.js';
import { ImageViewer } from './ImageViewer.js';

const statusWords: Record<Status, string> = { pending: 'waiting to send', sent: 'sent', delivered: 'delivered', read: 'read', failed: 'not sent' };
const ticks: Record<Status, string> = { pending: '', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

const reactionChoices = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
const editWindowMs = 15 * 60_000;
const deleteWindowMs = 48 * 3600_000;

/**
 * One message. Its accessible name says who, what, when and (for one's own) how far it got, so a
 * screen reader hears "You: hello, 10:32, read" while sighted people see the ticks. Its actions
 * (reply, react, edit, delete) sit in a small toolbar inside it.
 */
export function MessageItem(props: {
  messenger: Messenger;
  message: StoredMessage;
  /** After edits, deletes and reactions; undefined until the server stored it. */
  view: MessageView | undefined;
  /** The message this one answers, when it is in this browser's history. */
  quoted: StoredMessage | undefined;
  mine: boolean;
  group: boolean;
  onDraft: (draft: Draft) => void;
}) {
  const { messenger: m, message, view, quoted, mine, group, onDraft } = props;
  const [picking, setPicking] = useState(false);
  const status = message.status ?? 'sent';
  const time = clockTime(message.ts);
  const deleted = view?.deleted === true;
  const body = view === undefined ? message.body : view.body;
  const edited = view?.editedAt !== undefined;
  const reactions = view?.reactions ?? [];
  const what = deleted
    ? 'This message was deleted'
    : [body, message.media === undefined ? undefined : describeMedia(message)].filter((part) => part !== undefined && part !== '').join(', ') + (edited ? ' (edited)' : '');
  const parts = [`${mine ? 'You' : message.from}: ${what}`];
  if (quoted !== undefined) parts.push(`in reply to ${quoted.from === m.userId ? 'you' : quoted.from}`);
  if (reactions.length > 0) parts.push(`reactions ${reactions.map((r) => `${r.emoji} ${r.count}`).join(' ')}`);
  parts.push(time);
  if (mine) parts.push(statusWords[status]);
  const age = Date.now() - message.ts;
  const target = message.serverId;
  const myReaction = reactions.find((r) => r.users.includes(m.userId))?.emoji;

  return (
    <li class={`message ${mine ? 'mine' : 'theirs'}${deleted ? ' deleted' : ''}`} aria-label={parts.join(', ')} tabIndex={-1}>
      {group && !mine && <span class="from">{message.from}</span>}
      {quoted !== undefined && (
        <blockquote class="quote">
          <span class="from">{quoted.from === m.userId ? 'You' : quoted.from}</span>
          {quoted.body ?? 'Photo or file'}
        </blockquote>
      )}
      {deleted ? (
        <p class="body">
          <em>This message was deleted</em>
        </p>
      ) : (
        <>
          {message.media !== undefined && <Attachment messenger={m} message={message} />}
          {body !== undefined && body !== '' && <p class="body">{body}</p>}
        </>
      )}
      <span class="meta" aria-hidden="true">
        {edited && !deleted && 'edited '}
        {time}
        {mine && <span class={`ticks ${status}`} title={statusWords[status]}>{status === 'pending' ? <ClockIcon /> : ticks[status]}</span>}
      </span>
      {reactions.length > 0 && (
        <ul class="reactions" aria-hidden="true">
          {reactions.map((r) => (
            <li key={r.emoji} title={r.users.join(', ')}>
              {r.emoji} {r.count}
            </li>
          ))}
        </ul>
      )}
      {status === 'failed' && message.error !== undefined && <span class="error">{message.error}</span>}
      {target !== undefined && !deleted && (
        <div class="message-actions" role="group" aria-label="Message actions">
          <button type="button" onClick={() => onDraft({ kind: 'reply', message, text: body ?? '' })}>Reply</button>
          <button type="button" aria-expanded={picking} onClick={() => setPicking(!picking)}>React</button>
          {mine && body !== undefined && age < editWindowMs && <button type="button" onClick={() => onDraft({ kind: 'edit', message, text: body })}>Edit</button>}
          {mine && age < deleteWindowMs && (
            <button type="button" onClick={() => void m.deleteForEveryone(message.chat, target)}>
              Delete for everyone
            </button>
          )}
          {picking && (
            <span class="picker">
              {reactionChoices.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  aria-label={myReaction === emoji ? `Take back ${emoji}` : `React with ${emoji}`}
                  aria-pressed={myReaction === emoji}
                  onClick={() => {
                    setPicking(false);
                    void m.react(message.chat, target, myReaction === emoji ? '' : emoji);
                  }}
                >
                  {emoji}
                </button>
              ))}
            </span>
          )}
        </div>
      )}
    </li>
  );
}

function describeMedia(message: StoredMessage): string {
  const media = message.media!;
  return media.mime.startsWith('image/') ? `photo ${media.caption ?? ''}`.trim() : `file ${media.caption ?? ''} (${fileSize(media.size)})`;
}

function Attachment({ messenger: m, message }: { messenger: Messenger; message: StoredMessage }) {
  const media = message.media!;
  const [viewing, setViewing] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const name = media.caption ?? 'file';

  const download = () => {
    setError(undefined);
    m.download(media.hash).then(
      (blob) => saveFile(blob, name),
      (err: unknown) => setError(`Download failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  };

  if (media.mime.startsWith('image/')) {
    return (
      <>
        <button type="button" class="photo" onClick={() => setViewing(true)} aria-label={`View photo ${media.caption ?? ''}`.trim()}>
          {media.thumbnail !== undefined ? <img src={`data:image/jpeg;base64,${media.thumbnail}`} alt={`Photo ${media.caption ?? ''}`.trim()} /> : <span>Photo</span>}
        </button>
        {viewing && <ImageViewer messenger={m} hash={media.hash} caption={media.caption} onClose={() => setViewing(false)} />}
      </>
    );
  }
  return (
    <>
      <button type="button" class="file" onClick={download}>
        Download {name} ({fileSize(media.size)})
      </button>
      {error !== undefined && <span role="alert" class="error">{error}</span>}
    </>
  );
}
