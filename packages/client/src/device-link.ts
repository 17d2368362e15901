/**
 * Linking this app as a new device of an existing account (v2): the new device asks for a link
 * code and shows it (text, or a QR code); the account's primary approves it with `approveLink`;
 * meanwhile the new device long-polls for its token. No token is needed to ask.
 */
import { CourierApiError } from './errors.js';
import { apiRequest } from './http-api.js';

export interface LinkDeviceOptions {
  /** How the device appears in the account's device list (default "Linked device"). */
  name?: string;
  /** Stops waiting for the approval: `approved` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Longest single long poll, in seconds (the server allows up to 30). */
  pollSeconds?: number;
}

/** This device, once linked: its token works like a registered device's. */
export interface LinkedDevice {
  userId: string;
  deviceId: number;
  token: string;
}

export interface PendingLink {
  /** Show it to the user (as text, or as a QR code) for the primary device to approve. */
  linkCode: string;
  /** Seconds the code stays valid. */
  expiresIn: number;
  /**
   * Resolves once the primary approved the code; rejects with `CourierApiError` `expired` (410)
   * when the code ran out first, or with the signal's reason when aborted.
   */
  approved: Promise<LinkedDevice>;
}

/** Asks for a link code at once; `approved` then waits (long polls) for the primary's approval. */
export async function linkDevice(url: string, options: LinkDeviceOptions = {}): Promise<PendingLink> {
  const response = await apiRequest(
    url,
    '/v1/devices/link',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(options.name === undefined ? {} : { name: options.name }),
      ...(options.signal !== undefined && { signal: options.signal }),
    },
    [201],
  );
  const { linkCode, pollToken, expiresIn } = (await response.json()) as { linkCode: string; pollToken: string; expiresIn: number };
  const approved = waitForApproval(url, pollToken, Math.min(30, Math.max(1, options.pollSeconds ?? 30)), options.signal);
  // The app may look at the code before it awaits `approved`; a rejection meanwhile is not "unhandled".
  approved.catch(() => undefined);
  return { linkCode, expiresIn, approved };
}

async function waitForApproval(url: string, pollToken: string, pollSeconds: number, signal?: AbortSignal): Promise<LinkedDevice> {
  const path = `/v1/devices/link/${encodeURIComponent(pollToken)}?wait=${pollSeconds}`;
  for (;;) {
    signal?.throwIfAborted();
    const init: RequestInit = { headers: { accept: 'application/json' } };
    if (signal !== undefined) init.signal = signal;
    const response = await apiRequest(url, path, init, [200, 202]);
    if (response.status === 202) {
      await response.body?.cancel();
      continue;
    }
    const body = (await response.json()) as Partial<LinkedDevice>;
    if (typeof body.token !== 'string' || typeof body.userId !== 'string' || typeof body.deviceId !== 'number') {
      throw new CourierApiError(502, 'invalid_response', 'The server answered the link poll without a token.');
    }
    return { userId: body.userId, deviceId: body.deviceId, token: body.token };
  }
}
