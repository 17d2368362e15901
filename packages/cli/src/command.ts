/**
 * What every `courier` command is: a module `commands/<name>.ts` exporting `summary` (its lines in
 * `courier --help`, each starting with the command's name) and `run(args)`. main.ts finds the
 * commands by listing that folder, so adding a command is adding one file.
 */
export interface CommandModule {
  /** One or more lines for the overview, e.g. `send <to> <text>    send a text message`. */
  summary: string;
  run(args: string[]): Promise<void>;
}
