import { useState } from 'preact/hooks';
import { normalizePhone } from '../format.js';
import type { Chat } from '../history.js';
import type { Messenger } from '../messenger.js';

/** The group's members; admins may add and remove them. */
export function GroupInfo({ messenger: m, chat }: { messenger: Messenger; chat: Chat }) {
  const [phone, setPhone] = useState('');
  const [error, setError] = useState<string | undefined>();
  const admin = chat.admins.includes(m.userId);

  const change = (what: { add?: string[]; remove?: string[] }) => {
    setError(undefined);
    m.changeMembers(chat.id, what).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };

  const add = (event: Event) => {
    event.preventDefault();
    const normalized = normalizePhone(phone);
    if (normalized === undefined) return setError('Enter a phone number like +15551234567.');
    setPhone('');
    change({ add: [normalized] });
  };

  return (
    <section class="group-info" aria-label="Group info">
      <h3>Members</h3>
      <ul aria-label="Members">
        {chat.members.map((member) => (
          <li key={member}>
            {member === m.userId ? 'You' : member}
            {chat.admins.includes(member) && <span class="tag"> admin</span>}
            {admin && member !== m.userId && (
              <button type="button" onClick={() => change({ remove: [member] })} aria-label={`Remove ${member}`}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {admin && (
        <form onSubmit={add}>
          <input aria-label="Add member" placeholder="+15551234567" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} />
          <button type="submit">Add</button>
        </form>
      )}
      {chat.left !== true && (
        <button type="button" onClick={() => change({ remove: [m.userId] })}>
          Leave group
        </button>
      )}
      {error !== undefined && <p role="alert" class="error">{error}</p>}
    </section>
  );
}
