import { useEffect, useRef, useState } from 'preact/hooks';
import { normalizePhone } from '../format.js';
import type { Messenger } from '../messenger.js';

/** Name a group and list its first members by phone number. */
export function NewGroupDialog({ messenger: m, onClose }: { messenger: Messenger; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => dialog.current?.showModal(), []);

  const create = (event: Event) => {
    event.preventDefault();
    const phones = members.split(/[,;\n]/).map((p) => p.trim()).filter((p) => p !== '');
    const bad = phones.filter((p) => normalizePhone(p) === undefined);
    if (bad.length > 0) return setError(`Not a phone number: ${bad.join(', ')}. Use the form +15551234567.`);
    setBusy(true);
    m.createGroup(name.trim(), phones.map((p) => normalizePhone(p)!)).then(
      () => dialog.current?.close(),
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof Error ? err.message : String(err));
      },
    );
  };

  return (
    <dialog ref={dialog} aria-labelledby="new-group-title" onClose={onClose}>
      <form onSubmit={create}>
        <h2 id="new-group-title">New group</h2>
        <label>
          Group name
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
        </label>
        <label>
          Members
          <textarea value={members} onInput={(e) => setMembers(e.currentTarget.value)} placeholder="+15551234567, +15557654321" rows={3} />
        </label>
        {error !== undefined && <p role="alert" class="error">{error}</p>}
        <div class="actions">
          <button type="button" onClick={() => dialog.current?.close()}>Cancel</button>
          <button type="submit" disabled={busy}>Create group</button>
        </div>
      </form>
    </dialog>
  );
}
