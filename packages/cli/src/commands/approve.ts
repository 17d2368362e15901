/** `courier approve <code>`: on the primary, makes the device showing the code a device of this account. */
import { stdout } from 'node:process';
import { clientFor } from '../client-support/connection.js';
import { safe } from '../client-support/format.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { loadProfile } from '../client-support/profile.js';

export const summary = `approve <code>                on the primary: link the device showing <code> to this account`;

const usage = `usage: courier approve <code> [--server <url>] [--profile <name>]

Run on the account's primary device (the one registered by SMS) with the code another terminal's
courier link shows. Codes are used once and expire after a few minutes.`;

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [code, ...extra] = positionals;
  if (code === undefined || extra.length > 0) throw new UsageError(`expected one link code\n${usage}`);
  const profile = await loadProfile(shared.profile);
  const approved = await clientFor(profile, serverOf(shared, profile.server)).approveLink(code);
  stdout.write(`linked device ${approved.deviceId} "${safe(approved.name)}" to ${profile.userId}\n`);
}
