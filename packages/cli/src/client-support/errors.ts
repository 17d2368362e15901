/** Turning any failure of a command into one sentence a person can act on. */
import { CourierApiError, CourierSocketError } from 'courier-chat-client/node';
import { UsageError } from './options.js';
import { lastLoadedProfile } from './profile.js';

/** Our own usage errors, and those of `util.parseArgs` (unknown option, missing value...). */
export function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export function describeError(err: unknown): string {
  if (isRevoked(err)) {
    const loaded = lastLoadedProfile();
    const again = loaded === undefined ? 'courier register <phone>' : `courier register ${loaded.profile.phone}${loaded.name === 'default' ? '' : ` --profile ${loaded.name}`}`;
    if ((loaded?.profile.deviceId ?? 1) !== 1) {
      // A linked device: removed from the account, or every device was signed out by a new registration.
      return `this device's token was refused: it was removed from the account, or the phone was registered again (which signs out every device). Run "courier link${loaded?.name === undefined || loaded.name === 'default' ? '' : ` --profile ${loaded.name}`}" to link it again.`;
    }
    return `this device's token was refused: the phone was registered again elsewhere (which signs out every earlier device). Run "${again}" to use it here again.`;
  }
  if (err instanceof CourierSocketError && err.code === 'frame_too_large') {
    const limit = /limit of (\d+)/.exec(err.message)?.[1];
    return `the message is too long for this server${limit === undefined ? '' : ` (at most ${limit} bytes per message)`}: save it to a file and send that with --file`;
  }
  if (err instanceof CourierApiError && err.code === 'unreachable' && /ECONNREFUSED/.test(err.message)) {
    return `${err.message}: is the server running, on this port?`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A token the server no longer takes: over the socket (close 4001) or over HTTP (401). */
function isRevoked(err: unknown): boolean {
  return (err instanceof CourierSocketError && err.code === 'revoked') || (err instanceof CourierApiError && err.code === 'unauthorized');
}
