/**
 * The `courier` command: `serve` runs a server node; the other commands are a tiny terminal
 * client built on the SDK. Each command lives in commands/<name>.ts and exports `run(argv)`.
 */
import { argv, exit, stderr, stdout } from 'node:process';
import { UsageError } from './client-support/options.js';

const commands: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  serve: () => import('./commands/serve.js'),
  register: () => import('./commands/register.js'),
  send: () => import('./commands/send.js'),
  listen: () => import('./commands/listen.js'),
  fetch: () => import('./commands/fetch.js'),
};

const usage = `usage: courier <command> [options]

  serve                         run a server node (courier serve --help for its options)
  register <phone>              register this terminal as the device of <phone> (asks for the code)
  send <to> <text>              send a text message
  send <to> --file <path>       send a photo, voice note or any file
  listen                        print incoming messages, receipts and presence as they come
  fetch <hash> <path>           download a media blob

Client commands take --server <url> (default http://127.0.0.1:8080, or COURIER_SERVER)
and --profile <name> (default "default", or COURIER_PROFILE) to keep several identities.`;

const [name, ...rest] = argv.slice(2);
const load = name === undefined ? undefined : commands[name];
if (name === undefined || name === '--help' || name === '-h') {
  stdout.write(`${usage}\n`);
} else if (load === undefined) {
  stderr.write(`courier: unknown command "${name}"\n${usage}\n`);
  exit(2);
} else {
  const command = await load();
  try {
    await command.run(rest);
  } catch (err) {
    stderr.write(`courier ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    // 2 says "the command line was wrong" (as for an unknown command), 1 "it failed": scripts can tell them apart.
    exit(isUsageError(err) ? 2 : 1);
  }
}

/** Our own usage errors, and those of `util.parseArgs` (unknown option, missing value...). */
function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
