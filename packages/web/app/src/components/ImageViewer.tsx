import { useEffect, useRef, useState } from 'preact/hooks';
import { saveFile } from '../media.js';
import type { Messenger } from '../messenger.js';

/** The full image in a modal dialog (Escape closes it, focus stays inside while it is open). */
export function ImageViewer({ messenger: m, hash, caption, onClose }: { messenger: Messenger; hash: string; caption: string | undefined; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [blob, setBlob] = useState<Blob | undefined>();
  const [url, setUrl] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    dialog.current?.showModal();
    let objectUrl: string | undefined;
    m.download(hash).then(
      (b) => {
        setBlob(b);
        setUrl((objectUrl = URL.createObjectURL(b)));
      },
      (err: unknown) => setError(`Could not load the photo: ${err instanceof Error ? err.message : String(err)}`),
    );
    return () => {
      if (objectUrl !== undefined) URL.revokeObjectURL(objectUrl);
    };
  }, [hash]);

  return (
    <dialog ref={dialog} class="viewer" aria-label="Photo" onClose={onClose}>
      {url !== undefined && <img src={url} alt={caption ?? 'Photo'} />}
      {url === undefined && error === undefined && <p role="status">Loading…</p>}
      {error !== undefined && <p role="alert">{error}</p>}
      <div class="actions">
        {blob !== undefined && (
          <button type="button" onClick={() => saveFile(blob, caption ?? 'photo')}>
            Download
          </button>
        )}
        <button type="button" onClick={() => dialog.current?.close()} autofocus>
          Close
        </button>
      </div>
    </dialog>
  );
}
