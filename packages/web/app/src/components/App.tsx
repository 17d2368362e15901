import { useEffect, useState } from 'preact/hooks';
import { Messenger } from '../messenger.js';
import { loadSession, saveSession, type SavedSession } from '../saved-session.js';
import { Main } from './Main.js';
import { SignIn } from './SignIn.js';

/** Signed out: the registration screen. Signed in: the messenger, started from the saved session. */
export function App() {
  const [session, setSession] = useState<SavedSession | undefined>(loadSession);
  const [messenger, setMessenger] = useState<Messenger | undefined>();
  const [reason, setReason] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | undefined>();

  useEffect(() => {
    if (session === undefined) return;
    let started: Messenger | undefined;
    let cancelled = false;
    Messenger.start(session, (why) => {
      setReason(why);
      setMessenger(undefined);
      setSession(undefined);
    }).then(
      (m) => {
        if (cancelled) m.stop();
        else setMessenger((started = m));
      },
      (err: unknown) => setFailure(`Could not open this browser's history: ${err instanceof Error ? err.message : String(err)}`),
    );
    return () => {
      cancelled = true;
      started?.stop();
    };
  }, [session]);

  if (session === undefined) {
    return (
      <SignIn
        reason={reason}
        onSignedIn={(s) => {
          saveSession(s);
          setReason(undefined);
          setSession(s);
        }}
      />
    );
  }
  if (failure !== undefined) return <p role="alert" class="fatal">{failure}</p>;
  if (messenger === undefined) return <p class="loading" role="status">Loading your chats…</p>;
  return <Main messenger={messenger} />;
}
