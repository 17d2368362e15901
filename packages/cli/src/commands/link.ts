/** `courier link`: makes this terminal a linked device of an existing account (the primary approves its code). */
import { stdout } from 'node:process';
import { CourierClient } from 'courier-chat-client/node';
import QRCode from 'qrcode';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { profilePath, saveProfile } from '../client-support/profile.js';

export const summary = `link [--name <name>]         link this terminal to an account: shows a code for its primary to approve`;

const usage = `usage: courier link [--name <name>] [--server <url>] [--profile <name>]

Shows a link code, as text and as a QR code, and waits until the account's primary device
approves it (there: courier approve <code>). This terminal then becomes a device of that account
(up to 4 besides the primary), with a token of its own saved in the profile. --name is how it
appears in the device list (default: "courier CLI").`;

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, { name: { type: 'string' } });
  if (shared.help) return void stdout.write(`${usage}\n`);
  if (positionals.length > 0) throw new UsageError(`link takes no arguments\n${usage}`);
  const server = serverOf(shared);
  profilePath(shared.profile); // a bad profile name fails before a code is asked for
  const name = typeof values.name === 'string' ? values.name : 'courier CLI';

  const pending = await CourierClient.linkDevice(server, { name });
  const qr = await QRCode.toString(pending.linkCode, { type: 'terminal', small: true });
  stdout.write(`${qr}\nlink code: ${pending.linkCode}\n`);
  stdout.write(`on the primary device, run: courier approve ${pending.linkCode}  (valid for ${Math.round(pending.expiresIn / 60)} min)\n`);
  stdout.write('waiting for the approval...\n');
  const device = await pending.approved;
  const path = await saveProfile(shared.profile, {
    server,
    userId: device.userId,
    token: device.token,
    phone: device.userId,
    registeredAt: Date.now(),
    deviceId: device.deviceId,
  });
  stdout.write(`linked as device ${device.deviceId} of ${device.userId} (profile "${shared.profile}", ${path})\n`);
}
