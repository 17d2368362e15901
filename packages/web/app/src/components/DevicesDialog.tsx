import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceInfo } from 'courier-chat-client';
import { lastSeen } from '../format.js';
import type { Messenger } from '../messenger.js';

/** The account's devices: approve a link code shown by a new device, remove linked ones. */
export function DevicesDialog({ messenger: m, onClose }: { messenger: Messenger; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [devices, setDevices] = useState<DeviceInfo[] | undefined>();
  const [code, setCode] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const me = m.deviceId;
  const primary = devices?.find((d) => d.deviceId === me)?.primary ?? me === 1;

  const refresh = () =>
    m.client.devices().then(setDevices, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  useEffect(() => {
    dialog.current?.showModal();
    void refresh();
  }, []);

  const approve = (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setMessage(undefined);
    m.client.approveLink(code.trim()).then(
      (linked) => {
        setCode('');
        setMessage(`Linked ${linked.name}.`);
        void refresh();
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  };

  const remove = (device: DeviceInfo) => {
    setError(undefined);
    if (device.deviceId === me) {
      void m.signOut('This browser was unlinked.');
      return;
    }
    m.client.removeDevice(device.deviceId).then(refresh, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };

  return (
    <dialog ref={dialog} aria-labelledby="devices-title" onClose={onClose}>
      <h2 id="devices-title">Devices</h2>
      {devices === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <ul class="devices" aria-label="Devices">
          {devices.map((device) => (
            <li key={device.deviceId}>
              <span>
                {device.name}
                {device.deviceId === me ? ' (this browser)' : ''}
                {device.primary ? ' · primary' : ''}
                <br />
                <small>{device.online ? 'online' : lastSeen(device.lastSeen)}</small>
              </span>
              {!device.primary && (primary || device.deviceId === me) && (
                <button type="button" onClick={() => remove(device)} aria-label={device.deviceId === me ? 'Unlink this browser' : `Remove ${device.name}`}>
                  {device.deviceId === me ? 'Unlink' : 'Remove'}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {primary && (
        <form onSubmit={approve}>
          <label>
            Link code
            <input value={code} onInput={(e) => setCode(e.currentTarget.value)} required autocomplete="off" placeholder="The code the new device shows" />
          </label>
          <button type="submit">Approve</button>
        </form>
      )}
      {message !== undefined && <p role="status">{message}</p>}
      {error !== undefined && <p role="alert" class="error">{error}</p>}
      <div class="actions">
        <button type="button" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
    </dialog>
  );
}
