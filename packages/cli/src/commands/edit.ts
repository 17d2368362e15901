/** `courier edit <to> <serverId> <text>`: replaces the text of one of your messages (for 15 min by default). */
import { stdout } from 'node:process';
import { runMessageAction } from '../client-support/message-action.js';
import { UsageError, parseCommand } from '../client-support/options.js';
import { checkRecipient } from '../client-support/phone.js';

export const summary = `edit <to> <serverId> <text>   change the text of a message you sent`;

const usage = `usage: courier edit <to> <serverId> <text...> [--server <url>] [--profile <name>]

<to> is the conversation (the other user, or the groupId); <serverId> the message's, as
"courier send" printed it. The server allows edits for a while after sending (15 min by default).`;

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [to, target, ...words] = positionals;
  if (to === undefined || target === undefined || words.length === 0) throw new UsageError(`expected a conversation, a serverId and the new text\n${usage}`);
  const recipient = checkRecipient(to);
  await runMessageAction(shared, (client) => client.edit(recipient, target, words.join(' ')));
}
