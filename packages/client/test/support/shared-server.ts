/**
 * The setup most test files share: one real server for the whole file, started with the named
 * users registered (in order) before the first test, and disposed after the last.
 */
import { after, before } from 'node:test';
import { register, type TestUser } from './register.js';
import { ServerProcess, type ServerOptions } from './server-process.js';

export type SharedServer<Name extends string> = { readonly server: ServerProcess } & { readonly [N in Name]: TestUser };

export function sharedServer<const Name extends string>(userNames: readonly Name[], options: ServerOptions = {}): SharedServer<Name> {
  let server: ServerProcess | undefined;
  const users = new Map<string, TestUser>();
  before(async () => {
    server = await ServerProcess.start(options);
    for (const name of userNames) users.set(name, await register(server));
  });
  after(async () => {
    await server?.dispose();
  });
  // Getters, because the server and the users exist only once `before` has run.
  const shared = {};
  Object.defineProperty(shared, 'server', { get: () => server ?? notYet('the server') });
  for (const name of userNames) Object.defineProperty(shared, name, { get: () => users.get(name) ?? notYet(name) });
  return shared as SharedServer<Name>;
}

function notYet(what: string): never {
  throw new Error(`${what} is set up by the before hook: use it inside a test`);
}
