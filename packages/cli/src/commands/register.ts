/** `courier register <phone>`: asks the server for a code, reads it on stdin, saves the token. */
import { stdin, stdout } from 'node:process';
import { createInterface } from 'node:readline/promises';
import { CourierApiError, CourierClient } from '@courier/client/node';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { profilePath, saveProfile } from '../client-support/profile.js';

const usage = `usage: courier register <phone> [--code <code>] [--server <url>] [--profile <name>]

Registers this terminal as the device of <phone> (E.164, e.g. +15551234567): the server sends a
code by SMS, you type it, and the token is saved in the profile. Registering a phone again
revokes its previous device.`;

const maxTries = 3;

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, { code: { type: 'string' } });
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [phone, ...extra] = positionals;
  if (phone === undefined || extra.length > 0) throw new UsageError(`expected one phone number\n${usage}`);
  const server = serverOf(shared);
  profilePath(shared.profile); // a bad profile name fails before an SMS is spent

  const { expiresIn } = await CourierClient.register.request(server, phone);
  stdout.write(`a code was sent to ${phone}; it is valid for ${Math.round(expiresIn / 60)} min\n`);

  const given = typeof values.code === 'string' ? values.code : undefined;
  const rl = given === undefined ? createInterface({ input: stdin, output: stdout, terminal: stdin.isTTY }) : undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      const code = given ?? (await rl!.question('code: ')).trim();
      try {
        const { userId, token } = await CourierClient.register.verify(server, phone, code);
        const path = await saveProfile(shared.profile, { server, userId, token, phone, registeredAt: Date.now() });
        stdout.write(`registered ${userId} on ${server} (profile "${shared.profile}", ${path})\n`);
        return;
      } catch (err) {
        const retry = err instanceof CourierApiError && err.code === 'invalid_code' && given === undefined && attempt < maxTries;
        if (!retry) throw err;
        stdout.write(`the code was not accepted (${err.message.replace(/\.$/, '')}); try again\n`);
      }
    }
  } finally {
    rl?.close();
  }
}
