/** `courier delete <to> <serverId>`: deletes one of your messages for everyone (for 48 h by default). */
import { stdout } from 'node:process';
import { runMessageAction } from '../client-support/message-action.js';
import { UsageError, parseCommand } from '../client-support/options.js';
import { checkRecipient } from '../client-support/phone.js';

export const summary = `delete <to> <serverId>        delete a message you sent, for everyone`;

const usage = `usage: courier delete <to> <serverId> [--server <url>] [--profile <name>]

<to> is the conversation (the other user, or the groupId); <serverId> the message's, as
"courier send" printed it. Devices that have not received it yet never will. The server allows
it for a while after sending (48 h by default).`;

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [to, target, ...extra] = positionals;
  if (to === undefined || target === undefined || extra.length > 0) throw new UsageError(`expected a conversation and a serverId\n${usage}`);
  const recipient = checkRecipient(to);
  await runMessageAction(shared, (client) => client.deleteForEveryone(recipient, target));
}
