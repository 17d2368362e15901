#!/usr/bin/env bash
# A Courier cluster on this machine, for trying one by hand: N nodes (default 3) sharing one
# PostgreSQL database and one Redis, behind HAProxy.
#
#   deploy/cluster.sh [N] [extra courier serve flags...]      or      npm run cluster -- [N] ...
#
# Clients use http://127.0.0.1:8080 (ws://127.0.0.1:8080/v1/ws); node i listens on 8080+i;
# HAProxy's stats page is http://127.0.0.1:8404/stats. Everything runs in the foreground, each
# line prefixed by its process; Ctrl-C (or SIGTERM) stops the nodes gracefully, then HAProxy,
# and waits until each has printed its last line.
#
# Needs node (with the repo built), haproxy, a PostgreSQL and a Redis. The environment may change:
#   COURIER_DATABASE_URL   default postgres://postgres@127.0.0.1:5432/courier (created if missing)
#   COURIER_REDIS_URL      default redis://127.0.0.1:6379
#   COURIER_DATA_DIR       default ./data/cluster: sms.jsonl and each node's data (media are in PostgreSQL)
#   COURIER_CLUSTER_PORT   default 8080: HAProxy's port; node i gets this port + i
#   COURIER_CLUSTER_STATS_PORT  default 8404: HAProxy's stats page
#   COURIER_CLUSTER_VERBOSE=1   show HAProxy's start-up notices and warnings (quiet otherwise)
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
stats_port="${COURIER_CLUSTER_STATS_PORT:-8404}"
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
node_groups=()
haproxy_group=""
stopping=0

# Prefixes each line with the name of its process. It ignores INT and TERM: it ends when its
# process has closed its output, so the last lines (a node's "stopped") are never lost.
label() {
  trap '' INT TERM
  exec awk -v p="[$1] " '{ print p $0; fflush() }'
}

# Starts "$@" as a job whose output goes through label; sets started_group to its process group.
# Job control (set -m) gives the job a process group of its own, so the SIGINT of a Ctrl-C reaches
# this script only, and the script stops everything in order (the nodes first, each draining its
# sockets with 1012, HAProxy last) instead of all dying at once. It is switched off again so that
# bash prints no job notices.
start() {
  local name="$1"
  shift
  set -m
  "$@" 2>&1 | label "$name" &
  set +m
  started_group="$(ps -o pgid= -p "$!" | tr -d ' ')"
}

alive() {
  kill -0 -- "-$1" 2>/dev/null
}

# Waits until all of a process group (command and label) has exited; after $2 seconds it is
# killed. (The signal is sent once, by the caller: a second SIGTERM makes a node stop at once.)
wait_group() {
  local group="$1" grace="$2"
  for ((tick = 0; tick < grace * 10; tick++)); do
    alive "$group" || return 0
    sleep 0.1
  done
  echo "cluster.sh: process group $group did not stop within ${grace}s; killing it" >&2
  kill -KILL -- "-$group" 2>/dev/null || true
}

stop_all() {
  stopping=1
  echo "cluster.sh: stopping the nodes, then HAProxy"
  for group in "${node_groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
  for group in "${node_groups[@]}"; do wait_group "$group" 30; done
  if [[ -n "$haproxy_group" ]]; then
    kill -TERM -- "-$haproxy_group" 2>/dev/null || true
    wait_group "$haproxy_group" 10
  fi
  rm -f "$cfg"
  echo "cluster.sh: stopped"
}
on_signal() {
  if ((stopping)); then
    echo "cluster.sh: still stopping (the nodes are draining)" >&2
    return
  fi
  stop_all
  exit 0
}
trap on_signal INT TERM
trap '((stopping)) || stop_all' EXIT

# deploy/haproxy.cfg with this script's ports and one server line per node (its server lines are last).
{
  grep -Ev '^[[:space:]]*server[[:space:]]+node[0-9]+[[:space:]]' deploy/haproxy.cfg |
    sed -e "s/^\([[:space:]]*bind[[:space:]]*\)127\.0\.0\.1:8080[[:space:]]*$/\1127.0.0.1:$lb_port/" \
      -e "s/^\([[:space:]]*bind[[:space:]]*\)127\.0\.0\.1:8404[[:space:]]*$/\1127.0.0.1:$stats_port/"
  for ((i = 1; i <= count; i++)); do
    echo "    server node$i 127.0.0.1:$((lb_port + i)) check inter 1s fall 2 rise 2"
  done
} >"$cfg"
haproxy -c -q -f "$cfg"

for ((i = 1; i <= count; i++)); do
  start "node$i" node packages/cli/bin/courier.js serve \
    --host 127.0.0.1 --port $((lb_port + i)) --node-id "node$i" \
    --database-url "$database_url" --redis-url "$redis_url" --trust-proxy \
    --data-dir "$data_dir" --sms-outbox "$data_dir/sms.jsonl" \
    "$@"
  node_groups+=("$started_group")
done

# HAProxy starts once the nodes are ready, so its first health checks find them up: no
# "server DOWN" warnings at start-up (COURIER_CLUSTER_VERBOSE=1 shows its notices anyway).
ready() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"
}
for ((i = 1; i <= count; i++)); do
  for _ in $(seq 1 120); do
    if ready "http://127.0.0.1:$((lb_port + i))/readyz"; then break; fi
    for group in "${node_groups[@]}"; do
      alive "$group" || { echo "cluster.sh: a node exited during start-up (see its lines above)" >&2; exit 1; }
    done
    sleep 0.5
  done
done
quiet=(-q)
if [[ "${COURIER_CLUSTER_VERBOSE:-}" == 1 ]]; then quiet=(); fi
start haproxy haproxy "${quiet[@]}" -f "$cfg" -db
haproxy_group="$started_group"
for _ in $(seq 1 60); do
  if ready "http://127.0.0.1:$lb_port/readyz"; then break; fi
  sleep 0.5
done
echo "cluster.sh: $count nodes behind http://127.0.0.1:$lb_port (ws://127.0.0.1:$lb_port/v1/ws)"
echo "cluster.sh: HAProxy stats on http://127.0.0.1:$stats_port/stats; SMS codes in $data_dir/sms.jsonl; Ctrl-C stops"
# Until Ctrl-C (the trap stops everything), or until every process has exited by itself.
while :; do
  wait || true
  any=0
  for group in "${node_groups[@]}" "$haproxy_group"; do alive "$group" && any=1; done
  ((any)) || break
done
