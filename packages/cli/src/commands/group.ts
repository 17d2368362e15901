/** `courier group create|add|remove|show|list`: groups over HTTP; no socket, so a running `listen` or `chat` stays connected. */
import { stdout } from 'node:process';
import type { CourierClient, Group } from 'courier-chat-client/node';
import { clientFor } from '../client-support/connection.js';
import { safe } from '../client-support/format.js';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { checkUserIds } from '../client-support/phone.js';
import { loadProfile } from '../client-support/profile.js';

export const summary = `group create <name> [<user>...] create a group (you are its admin)
group add|remove <groupId> <user>...  change its members (remove yourself to leave)
group show <groupId> | group list     one group, or all of yours`;

const usage = `usage: courier group create <name> [<user>...]
       courier group add <groupId> <user>...
       courier group remove <groupId> <user>...
       courier group show <groupId>
       courier group list
       options: --server <url>, --profile <name>

Users are phone numbers in E.164 form (+15551234567). Only admins add members or remove others;
anyone may remove themselves (leave). Send to a group with courier send <groupId> <text> or
courier chat <groupId>.`;

type Action = (client: CourierClient, args: string[]) => Promise<void>;

const actions: Record<string, Action> = {
  async create(client, [name, ...members]) {
    if (name === undefined) throw new UsageError(`expected a group name\n${usage}`);
    const group = await client.createGroup(name, checkUserIds(members));
    stdout.write(`created ${describe(group)}\n`);
  },
  async add(client, [groupId, ...users]) {
    if (groupId === undefined || users.length === 0) throw new UsageError(`expected a groupId and users to add\n${usage}`);
    stdout.write(`${describe(await client.changeMembers(groupId, { add: checkUserIds(users) }))}\n`);
  },
  async remove(client, [groupId, ...users]) {
    if (groupId === undefined || users.length === 0) throw new UsageError(`expected a groupId and users to remove\n${usage}`);
    stdout.write(`${describe(await client.changeMembers(groupId, { remove: checkUserIds(users) }))}\n`);
  },
  async show(client, [groupId, ...extra]) {
    if (groupId === undefined || extra.length > 0) throw new UsageError(`expected one groupId\n${usage}`);
    stdout.write(`${describe(await client.getGroup(groupId))}\n`);
  },
  async list(client, extra) {
    if (extra.length > 0) throw new UsageError(`group list takes no arguments\n${usage}`);
    const groups = await client.listGroups();
    stdout.write(groups.length === 0 ? 'you are in no group\n' : groups.map((g) => `${describe(g)}\n`).join(''));
  },
};

export async function run(args: string[]): Promise<void> {
  const { shared, positionals } = parseCommand(args, {});
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [actionName, ...rest] = positionals;
  const action = actionName === undefined ? undefined : actions[actionName];
  if (action === undefined || !Object.hasOwn(actions, actionName!)) {
    throw new UsageError(`${actionName === undefined ? 'expected' : `unknown group action "${actionName}": expected`} create, add, remove, show or list\n${usage}`);
  }
  const profile = await loadProfile(shared.profile);
  await action(clientFor(profile, serverOf(shared, profile.server)), rest);
}

/** `g_… "Name": +1555… (admin), +1555…` */
function describe(group: Group): string {
  const members = group.members.map((m) => (group.admins.includes(m) ? `${safe(m)} (admin)` : safe(m)));
  return `${safe(group.groupId)} "${safe(group.name)}": ${members.length === 0 ? 'no members' : members.join(', ')}`;
}
