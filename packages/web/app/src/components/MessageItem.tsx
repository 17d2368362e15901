import { useState } from 'preact/hooks';
import { clockTime, fileSize } from '../format.js';
import type { Status, StoredMessage } from '../history.js';
import { saveFile } from '../media.js';
import type { Messenger } from '../messenger.js';
import { ClockIcon } from './icons.js';
import { ImageViewer } from './ImageViewer.js';

const statusWords: Record<Status, string> = { pending: 'waiting to send', sent: 'sent', delivered: 'delivered', read: 'read', failed: 'not sent' };
const ticks: Record<Status, string> = { pending: '', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

/**
 * One message. Its accessible name says who, what, when and (for one's own) how far it got, so a
 * screen reader hears "You: hello, 10:32, read" while sighted people see the ticks.
 */
export function MessageItem({ messenger: m, message, mine, group }: { messenger: Messenger; message: StoredMessage; mine: boolean; group: boolean }) {
  const status = message.status ?? 'sent';
  const time = clockTime(message.ts);
  const what = [message.body, message.media === undefined ? undefined : describeMedia(message)].filter((part) => part !== undefined && part !== '').join(', ');
  const label = `${mine ? 'You' : message.from}: ${what}, ${time}${mine ? `, ${statusWords[status]}` : ''}`;
  return (
    <li class={`message ${mine ? 'mine' : 'theirs'}`} aria-label={label}>
      {group && !mine && <span class="from">{message.from}</span>}
      {message.media !== undefined && <Attachment messenger={m} message={message} />}
      {message.body !== undefined && message.body !== '' && <p class="body">{message.body}</p>}
      <span class="meta" aria-hidden="true">
        {time}
        {mine && <span class={`ticks ${status}`} title={statusWords[status]}>{status === 'pending' ? <ClockIcon /> : ticks[status]}</span>}
      </span>
      {status === 'failed' && message.error !== undefined && <span class="error">{message.error}</span>}
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
