/** `courier react <to> <serverId> <emoji>`: reacts to a message; `--remove` takes your reaction back. */
import { stdout } from 'node:process';
import { runMessageAction } from '../client-support/message-action.js';
import { UsageError, parseCommand } from '../client-support/options.js';
import { checkRecipient } from '../client-support/phone.js';

export const summary = `react <to> <serverId> <emoji>  react to a message (--remove takes it back)`;

const usage = `usage: courier react <to> <serverId> <emoji> [--server <url>] [--profile <name>]
       courier react <to> <serverId> --remove

<to> is the conversation (the other user, or the groupId); <serverId> the message's. One emoji;
it replaces your earlier reaction to that message.`;

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, { remove: { type: 'boolean' } });
  if (shared.help) return void stdout.write(`${usage}\n`);
  const remove = values.remove === true;
  const [to, target, emoji, ...extra] = positionals;
  if (to === undefined || target === undefined || extra.length > 0 || (emoji === undefined) === !remove) {
    throw new UsageError(`expected a conversation, a serverId and an emoji (or --remove)\n${usage}`);
  }
  const recipient = checkRecipient(to);
  await runMessageAction(shared, (client) => client.react(recipient, target, emoji ?? ''));
}
