import { useEffect, useState } from 'preact/hooks';
import qrcode from 'qrcode-generator';
import { CourierApiError, CourierClient } from 'courier-chat-client';
import { serverBase } from '../messenger.js';
import type { SavedSession } from '../saved-session.js';

/**
 * This browser as a linked device of an account whose primary is elsewhere: shows a link code, as
 * a QR code and as text, and waits until the primary approves it (Devices → Approve there).
 */
export function LinkDevice({ onLinked, onCancel }: { onLinked: (session: SavedSession) => void; onCancel: () => void }) {
  const [code, setCode] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const stop = new AbortController();
    setCode(undefined);
    setError(undefined);
    CourierClient.linkDevice(serverBase(), { name: browserName(), signal: stop.signal })
      .then((link) => {
        setCode(link.linkCode);
        return link.approved;
      })
      .then(
        ({ userId, token }) => onLinked({ userId, token }),
        (err: unknown) => {
          if (stop.signal.aborted) return;
          setError(err instanceof CourierApiError && err.status === 410 ? 'The code expired before it was approved.' : `Could not link: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    return () => stop.abort();
  }, [attempt]);

  return (
    <section class="link-device" aria-labelledby="link-title">
      <h2 id="link-title">Link this browser</h2>
      <p>On the phone or browser where you use Courier, open Devices and enter this code, or scan it.</p>
      {code !== undefined && (
        <>
          <div class="qr" role="img" aria-label={`QR code of the link code ${code}`} dangerouslySetInnerHTML={{ __html: qrSvg(code) }} />
          <p>
            Link code: <output class="link-code" aria-label="Link code">{code}</output>
          </p>
          <p role="status">Waiting for approval…</p>
        </>
      )}
      {error !== undefined && (
        <p role="alert" class="error">
          {error}{' '}
          <button type="button" onClick={() => setAttempt(attempt + 1)}>
            Get a new code
          </button>
        </p>
      )}
      <button type="button" class="link" onClick={onCancel}>
        Register with a phone number instead
      </button>
    </section>
  );
}

function qrSvg(text: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 5, margin: 2, scalable: true });
}

/** "Chrome on Linux", from what the browser says about itself. */
function browserName(): string {
  const agent = navigator.userAgent;
  const browser = /Edg\//.test(agent) ? 'Edge' : /Firefox\//.test(agent) ? 'Firefox' : /Chrom(e|ium)\//.test(agent) ? 'Chrome' : /Safari\//.test(agent) ? 'Safari' : 'Browser';
  const system = /Windows/.test(agent) ? 'Windows' : /Android/.test(agent) ? 'Android' : /iPhone|iPad/.test(agent) ? 'iOS' : /Mac OS/.test(agent) ? 'macOS' : /Linux/.test(agent) ? 'Linux' : 'the web';
  return `${browser} on ${system}`;
}
