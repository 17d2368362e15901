/** `courier devices [remove <id>]`: the account's devices, and removing one. */
import { stdout } from 'node:process';
import type { DeviceInfo } from 'courier-chat-client/node';
import { clientFor } from '../client-support/connection.js';
import { safe } from '../client-support/format.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { loadProfile } from '../client-support/profile.js';

export const summary = `devices [remove <id>]         this account's devices; remove one (the primary any, a linked one itself)`;

const usage = `usage: courier devices [--server <url>] [--profile <name>]
       courier devices remove <deviceId> [--server <url>] [--profile <name>]

Lists the devices of the account: the primary (registered by SMS) and the linked ones, with
whether each is online. The primary may remove any linked device; a linked device only itself.
A removed device's token stops working at once.`;

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const profile = await loadProfile(shared.profile);
  const client = clientFor(profile, serverOf(shared, profile.server));
  const [action, id, ...extra] = positionals;
  if (action === undefined) {
    const devices = await client.devices();
    stdout.write(devices.map((device) => `${describe(device, profile.deviceId ?? 1)}\n`).join(''));
    return;
  }
  if (action !== 'remove' || id === undefined || extra.length > 0 || !/^[0-9]+$/.test(id)) {
    throw new UsageError(`expected nothing, or remove <deviceId>\n${usage}`);
  }
  await client.removeDevice(Number(id));
  stdout.write(`removed device ${id}\n`);
}

/** `2  "Firefox on Linux"  linked  online` with `(this one)` for the profile's own device. */
function describe(device: DeviceInfo, own: number): string {
  const state = device.online ? 'online' : `last seen ${new Date(device.lastSeen).toISOString()}`;
  const role = device.primary ? 'primary' : 'linked';
  return `${device.deviceId}  "${safe(device.name)}"  ${role}  ${state}${device.deviceId === own ? '  (this one)' : ''}`;
}
