import { env, exit, stderr, stdout } from 'node:process';
import { OptionError, optionsHelp, parseOptions, startNode } from 'courier-chat-server';

/** `courier serve`: one node; SIGTERM or SIGINT stops it gracefully. */
export const summary = `serve                         run a server node (courier serve --help for its options)`;

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    stdout.write(`usage: courier serve [options]\n\n${optionsHelp()}\n`);
    return;
  }
  let options;
  try {
    options = parseOptions(args, env);
  } catch (err) {
    if (err instanceof OptionError) {
      stderr.write(`courier serve: ${err.message}\n(courier serve --help lists the options)\n`);
      exit(2);
    }
    throw err;
  }
  const node = await startNode(options);
  // The one plain line a person or a script waits for.
  stdout.write(`courier listening on ${node.url}\n`);
  const shutdown = (signal: string) => {
    node.logger.info({ signal }, 'signal received');
    node.stop().then(
      () => exit(0),
      (err: unknown) => {
        node.logger.error({ err }, 'graceful stop failed');
        exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
