/** What `courier edit`, `delete` and `react` share: connect as the profile, act once, print the answer. */
import { stdout } from 'node:process';
import type { CourierClient, SentAnswer } from 'courier-chat-client/node';
import { clientFor, connectOrFail } from './connection.js';
import { type CommonOptions, serverOf } from './options.js';
import { loadProfile } from './profile.js';

/**
 * Runs one action on a client that looks at the inbox without consuming it (`ack: false`), as
 * `courier send` does, and prints `sent <serverId>`. A refusal (`not_allowed`, ...) rejects.
 */
export async function runMessageAction(shared: CommonOptions, act: (client: CourierClient) => Promise<SentAnswer>): Promise<void> {
  const profile = await loadProfile(shared.profile);
  const client = clientFor(profile, serverOf(shared, profile.server), { ack: false });
  try {
    await connectOrFail(client, 10_000);
    const sent = await act(client);
    stdout.write(`sent ${sent.serverId}\n`);
  } finally {
    await client.close();
  }
}
