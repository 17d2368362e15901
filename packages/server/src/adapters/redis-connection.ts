import { Cluster, Redis } from 'ioredis';

/**
 * Connections of the Redis adapters (bus, rate limiter) to one Redis, or to a Redis Cluster.
 *
 * A cluster is named by its own URL form, since a standard URL holds one host:
 * `redis+cluster://[user:password@]host:port[,host:port...]` (`rediss+cluster://` for TLS).
 * The hosts are seeds: any reachable one tells the client the whole cluster's layout, and the
 * client follows slots as they move and replicas as they are promoted.
 */
export type RedisConnection = Redis | Cluster;

export interface ClusterAddress {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)\/?$/i;

export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:/i.test(url);
}

/** The seeds and credentials of a `redis+cluster://` URL; throws with the expected form on anything else. */
export function parseClusterUrl(url: string): ClusterAddress {
  const match = CLUSTER_URL.exec(url);
  if (match === null) throw new Error(`"${url}" is not a cluster URL: use redis+cluster://[user:password@]host:port[,host:port...]`);
  const [, scheme, credentials, hosts] = match;
  const nodes = hosts!.split(',').map((hostPort) => {
    const address = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(hostPort.trim());
    const port = Number(address?.[2] ?? 6379);
    if (address === null || port < 1 || port > 65535) throw new Error(`"${hostPort}" in "${url}" is not host:port`);
    return { host: address[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
  const address: ClusterAddress = { nodes, tls: scheme!.toLowerCase() === 'rediss' };
  if (credentials !== undefined) {
    const sep = credentials.indexOf(':');
    const username = decodeURIComponent(sep < 0 ? credentials : credentials.slice(0, sep));
    if (username !== '') address.username = username;
    if (sep >= 0) address.password = decodeURIComponent(credentials.slice(sep + 1));
  }
  return address;
}

/** Opens a connection for the URL; its errors (reconnects included) go to `onError`. */
export function connectRedis(url: string, onError: (err: Error) => void): RedisConnection {
  let connection: RedisConnection;
  if (isClusterUrl(url)) {
    const { nodes, username, password, tls } = parseClusterUrl(url);
    // No enableAutoPipelining: ioredis then batches scripts whose keys sit on different slots
    // of one master, which the cluster refuses ("same slots allocation group").
    connection = new Cluster(nodes, {
      redisOptions: { ...(username !== undefined && { username }), ...(password !== undefined && { password }), ...(tls && { tls: {} }) },
    });
  } else {
    // Commands of one event-loop turn (a signal per device of each batch) leave in one write:
    // one syscall instead of one per command. Replies still come in the order of the commands.
    connection = new Redis(url, { enableAutoPipelining: true });
  }
  connection.on('error', onError);
  return connection;
}
