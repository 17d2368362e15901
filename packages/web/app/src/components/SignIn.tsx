import { useState } from 'preact/hooks';
import { CourierClient } from 'courier-chat-client';
import { normalizePhone } from '../format.js';
import { serverBase } from '../messenger.js';
import { askForNotifications } from '../notifications.js';
import type { SavedSession } from '../saved-session.js';
import { LinkDevice } from './LinkDevice.js';

/** Registration: a phone number, then the code the server sent to it by SMS. */
export function SignIn({ reason, onSignedIn }: { reason: string | undefined; onSignedIn: (session: SavedSession) => void }) {
  const [phoneText, setPhoneText] = useState('');
  const [phone, setPhone] = useState<string | undefined>();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [linking, setLinking] = useState(false);

  const run = async (step: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await step();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const requestCode = (event: Event) => {
    event.preventDefault();
    const normalized = normalizePhone(phoneText);
    if (normalized === undefined) {
      setError('Enter the number in international form: a + and 8 to 15 digits, e.g. +15551234567.');
      return;
    }
    void run(async () => {
      await CourierClient.register.request(serverBase(), normalized);
      setPhone(normalized);
    });
  };

  const verify = (event: Event) => {
    event.preventDefault();
    void askForNotifications();
    void run(async () => {
      const { userId, token } = await CourierClient.register.verify(serverBase(), phone!, code.trim());
      onSignedIn({ userId, token });
    });
  };

  if (linking) {
    return (
      <main class="sign-in">
        <h1>Courier</h1>
        <LinkDevice onLinked={onSignedIn} onCancel={() => setLinking(false)} />
      </main>
    );
  }

  return (
    <main class="sign-in">
      <h1>Courier</h1>
      {reason !== undefined && <p role="status">{reason}</p>}
      {phone === undefined ? (
        <form onSubmit={requestCode}>
          <p>Enter your phone number. We will send you a code by SMS.</p>
          <label>
            Phone number
            <input type="tel" autocomplete="tel" placeholder="+15551234567" value={phoneText} onInput={(e) => setPhoneText(e.currentTarget.value)} required autofocus />
          </label>
          <button type="submit" disabled={busy}>Send code</button>
          <button type="button" class="link" onClick={() => setLinking(true)}>
            Already use Courier? Link this browser
          </button>
        </form>
      ) : (
        <form onSubmit={verify}>
          <p>Enter the code sent to {phone}.</p>
          <label>
            Code
            <input inputmode="numeric" autocomplete="one-time-code" value={code} onInput={(e) => setCode(e.currentTarget.value)} required autofocus />
          </label>
          <button type="submit" disabled={busy}>Verify</button>
          <button type="button" class="link" onClick={() => { setPhone(undefined); setCode(''); setError(undefined); }}>
            Use another number
          </button>
        </form>
      )}
      {error !== undefined && <p role="alert" class="error">{error}</p>}
    </main>
  );
}
