import type { Connection } from '../messenger.js';

/** Says so while there is no connection; messages written meanwhile wait and go when it is back. */
export function ConnectionBanner({ connection }: { connection: Connection }) {
  return (
    <div role="status" class={`banner ${connection}`}>
      {connection === 'offline' && 'You are offline. Messages will be sent when the connection is back.'}
      {connection === 'connecting' && 'Connecting…'}
    </div>
  );
}
