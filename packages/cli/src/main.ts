/**
 * The `courier` command: `serve` runs a server node; the other commands are a tiny terminal
 * client built on the SDK. Each command lives in commands/<name>.ts and exports `run(argv)`.
 */
import { argv, exit, stderr } from 'node:process';

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
if (load === undefined) {
  stderr.write(`${name === undefined || name === '--help' || name === '-h' ? '' : `courier: unknown command "${name}"\n`}${usage}\n`);
  exit(name === undefined || name === '--help' || name === '-h' ? 0 : 2);
} else {
  const command = await load();
  try {
    await command.run(rest);
  } catch (err) {
    stderr.write(`courier ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    exit(1);
  }
}
