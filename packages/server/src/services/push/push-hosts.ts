import { OptionError } from '../../config/options.js';

/**
 * The hosts the server may send pushes to (`--push-hosts`): exact names, or `*.domain` for any
 * name below a domain. Everything else is refused, so a client cannot make the server reach an
 * internal address by registering it as a push endpoint.
 */
export class PushHosts {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(list: string) {
    for (const entry of list.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean)) {
      if (entry.startsWith('*.') && entry.length > 2) this.suffixes.push(entry.slice(1));
      else if (/^[a-z0-9.:[\]-]+$/.test(entry)) this.exact.add(entry);
      else throw new OptionError(`--push-hosts: "${entry}" is neither a host name nor *.domain`);
    }
  }

  /** Whether `url`'s host (its name, whatever the port) is on the list. */
  allows(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    return this.exact.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
  }
}
