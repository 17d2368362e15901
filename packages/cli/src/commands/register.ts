/** `courier register <phone>`: asks the server for a code, reads it on stdin, saves the token. */
import { stdin, stdout } from 'node:process';
import { createInterface } from 'node:readline';
import { CourierApiError, CourierClient } from 'courier-chat-client/node';
import { UsageError, parseCommand, serverOf } from '../client-support/options.js';
import { checkUserId } from '../client-support/phone.js';
import { profilePath, saveProfile } from '../client-support/profile.js';

export const summary = `register <phone>              register this terminal as the device of <phone> (asks for the code)
register <phone> --code <c>   finish a registration with a code received earlier`;

const usage = `usage: courier register <phone> [--server <url>] [--profile <name>]
       courier register <phone> --code <code> [--server <url>] [--profile <name>]

Registers this terminal as the device of <phone> (E.164, e.g. +15551234567): the server sends a
code by SMS, you type it, and the token is saved in the profile. With --code, no new code is
sent: the one given (from an earlier run) is checked. Registering a phone again revokes every
earlier device of it, linked ones too. To add this terminal to an account instead, use
courier link.`;

const maxTries = 3;

export async function run(args: string[]): Promise<void> {
  const { shared, values, positionals } = parseCommand(args, { code: { type: 'string' } });
  if (shared.help) return void stdout.write(`${usage}\n`);
  const [typedPhone, ...extra] = positionals;
  if (typedPhone === undefined || extra.length > 0) throw new UsageError(`expected one phone number\n${usage}`);
  const phone = checkUserId(typedPhone);
  const server = serverOf(shared);
  profilePath(shared.profile); // a bad profile name fails before an SMS is spent

  // Every request makes a new code and voids the previous one, so a code given on the command
  // line belongs to an earlier run: check it as it is, without asking for another.
  const again = `courier register ${phone}${shared.profile === 'default' ? '' : ` --profile ${shared.profile}`}`;
  if (typeof values.code === 'string') {
    await verify(server, phone, values.code.trim(), shared.profile).catch((err: unknown) => {
      throw explainRefusal(err, again);
    });
    return;
  }

  const { expiresIn } = await CourierClient.register.request(server, phone);
  stdout.write(`a code was sent to ${phone}; it is valid for ${Math.round(expiresIn / 60)} min\n`);

  const rl = createInterface({ input: stdin, output: stdout, terminal: stdin.isTTY });
  // The iterator queues lines: piped input may hold several answers before the first is checked.
  const lines = rl[Symbol.asyncIterator]();
  rl.setPrompt('code: ');
  try {
    for (let attempt = 1; ; ) {
      rl.prompt();
      const line = await lines.next();
      if (line.done === true) {
        throw new Error(`no code was typed (input closed); to finish later, run "${again} --code <code>" with the code the SMS brought`);
      }
      const code = line.value.trim();
      // An empty line (Enter pressed too soon) is not a try: the server never sees it.
      if (code === '') continue;
      try {
        await verify(server, phone, code, shared.profile);
        return;
      } catch (err) {
        if (!(canTryAgain(err) && attempt < maxTries)) throw explainRefusal(err, again);
        stdout.write(`the code was not accepted (${(err as Error).message.replace(/\.$/, '')}); try again\n`);
        attempt++;
      }
    }
  } finally {
    rl.close();
  }
}

/** A wrong code the server still counts tries for (it says how many are left). */
function canTryAgain(err: unknown): boolean {
  return err instanceof CourierApiError && err.code === 'invalid_code' && /\btr(y|ies) left\b/.test(err.message);
}

/** A refused code that cannot be tried again (burnt, expired, never sent) says how to get a new one. */
function explainRefusal(err: unknown, again: string): unknown {
  if (!(err instanceof CourierApiError) || err.code !== 'invalid_code' || canTryAgain(err)) return err;
  return new Error(`${err.message.replace(/;? ?request a new one\.?$/, '.')} For a new code, run "${again}" again.`);
}

async function verify(server: string, phone: string, code: string, profileName: string): Promise<void> {
  const { userId, token, deviceId } = await CourierClient.register.verify(server, phone, code);
  const path = await saveProfile(profileName, { server, userId, token, phone, registeredAt: Date.now(), deviceId: deviceId ?? 1 });
  stdout.write(`registered ${userId} on ${server} (profile "${profileName}", ${path})\n`);
}
