#!/usr/bin/env bash
# A Courier cluster on this machine, for trying one by hand: N nodes (default 3) sharing one
# PostgreSQL database and one Redis, behind HAProxy.
#
#   deploy/cluster.sh [N] [extra courier serve flags...]      or      npm run cluster -- [N] ...
#
# Clients use http://127.0.0.1:8080 (ws://127.0.0.1:8080/v1/ws); node i listens on 8080+i;
# HAProxy's stats page is http://127.0.0.1:8404/stats. Everything runs in the foreground, each
# line prefixed by its process; Ctrl-C stops the nodes gracefully, then HAProxy.
#
# Needs node (with the repo built), haproxy, a PostgreSQL and a Redis. The environment may change:
#   COURIER_DATABASE_URL   default postgres://postgres@127.0.0.1:5432/courier (created if missing)
#   COURIER_REDIS_URL      default redis://127.0.0.1:6379
#   COURIER_DATA_DIR       default ./data/cluster: sms.jsonl and each node's data (media are in PostgreSQL)
#   COURIER_CLUSTER_PORT   default 8080: HAProxy's port; node i gets this port + i
# Other COURIER_* variables (COURIER_LOG_LEVEL=warn, ...) reach every node as usual.
set -eo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count="${1:-3}"
if [[ ! "$count" =~ ^[0-9]+$ ]] || ((count < 1 || count > 50)); then
  echo "usage: $0 [number of nodes, 1 to 50] [courier serve flags...]" >&2
  exit 2
fi
shift $(($# > 0 ? 1 : 0))

database_url="${COURIER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/courier}"
redis_url="${COURIER_REDIS_URL:-redis://127.0.0.1:6379}"
data_dir="${COURIER_DATA_DIR:-./data/cluster}"
lb_port="${COURIER_CLUSTER_PORT:-8080}"
cd "$root"

if ! command -v haproxy >/dev/null; then
  echo "cluster.sh: haproxy is not installed (apt-get install haproxy, brew install haproxy, ...)" >&2
  exit 1
fi
if [[ ! -f packages/cli/dist/src/main.js ]]; then
  echo "cluster.sh: building first (npx tsc -b)"
  npx tsc -b
fi

# Creates the database if missing and checks that Redis answers, before starting anything.
DATABASE_URL="$database_url" REDIS_URL="$redis_url" node --input-type=module -e '
import pg from "pg";
import { Redis } from "ioredis";
const target = new URL(process.env.DATABASE_URL);
const name = decodeURIComponent(target.pathname.slice(1));
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
  console.error(`cluster.sh: will not create a database named "${name}"; create it yourself`);
  process.exit(1);
}
const admin = new URL(target);
admin.pathname = "/postgres";
const client = new pg.Client({ connectionString: admin.toString() });
try {
  await client.connect();
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (rowCount === 0) {
    await client.query(`CREATE DATABASE "${name}"`);
    console.log(`cluster.sh: created database ${name}`);
  }
} catch (err) {
  console.error(`cluster.sh: PostgreSQL at ${admin.host}: ${err.message}`);
  process.exit(1);
} finally {
  await client.end().catch(() => {});
}
const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
redis.on("error", () => {});
try {
  await redis.connect();
  await redis.ping();
} catch (err) {
  console.error(`cluster.sh: Redis at ${process.env.REDIS_URL}: ${err.message}`);
  process.exit(1);
} finally {
  redis.disconnect();
}
'

mkdir -p "$data_dir"
cfg="$(mktemp "${TMPDIR:-/tmp}/courier-haproxy.XXXXXX")"
pids=()

stop_all() {
  trap - INT TERM EXIT
  echo "cluster.sh: stopping"
  # Nodes first (they drain their sockets with 1012), HAProxy last.
  for ((i = 1; i < ${#pids[@]}; i++)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for ((i = 1; i < ${#pids[@]}; i++)); do wait "${pids[$i]}" 2>/dev/null || true; done
  if ((${#pids[@]} > 0)); then kill -TERM "${pids[0]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -f "$cfg"
}
trap stop_all INT TERM EXIT

# Prefixes each line with the name of the process that wrote it.
label() {
  awk -v p="[$1] " '{ print p $0; fflush() }'
}

# deploy/haproxy.cfg with this script's ports and one server line per node (its server lines are last).
{
  grep -Ev '^[[:space:]]*server[[:space:]]+node[0-9]+[[:space:]]' deploy/haproxy.cfg |
    sed -e "s/^\([[:space:]]*bind[[:space:]]*\)127\.0\.0\.1:8080[[:space:]]*$/\1127.0.0.1:$lb_port/"
  for ((i = 1; i <= count; i++)); do
    echo "    server node$i 127.0.0.1:$((lb_port + i)) check inter 1s fall 2 rise 2"
  done
} >"$cfg"
haproxy -c -q -f "$cfg"

haproxy -f "$cfg" -db > >(label haproxy) 2>&1 &
pids+=($!)
for ((i = 1; i <= count; i++)); do
  node packages/cli/bin/courier.js serve \
    --host 127.0.0.1 --port $((lb_port + i)) --node-id "node$i" \
    --database-url "$database_url" --redis-url "$redis_url" --trust-proxy \
    --data-dir "$data_dir" --sms-outbox "$data_dir/sms.jsonl" \
    "$@" > >(label "node$i") 2>&1 &
  pids+=($!)
done

if command -v curl >/dev/null; then
  for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$lb_port/readyz" 2>/dev/null; then break; fi
    sleep 0.5
  done
fi
echo "cluster.sh: $count nodes behind http://127.0.0.1:$lb_port (ws://127.0.0.1:$lb_port/v1/ws)"
echo "cluster.sh: HAProxy stats on http://127.0.0.1:8404/stats; SMS codes in $data_dir/sms.jsonl; Ctrl-C stops"
wait
