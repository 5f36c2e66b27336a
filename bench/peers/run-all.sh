#!/usr/bin/env bash
# End to end: start the fake upstream and each peer, bench them side by side, stop them.
#
#   peers/run-all.sh [-d 10s] [-c 32] [-w 2s] [-s a,b,c,d] [-p "tailcall tailcall-cache tailcall-cache-validated switchboard switchboard-noreuse tailcall-validated switchboard-nocache hive hive-cache"] \
#                    [-- extra bench.sh targets, e.g. switchboard=http://127.0.0.1:8200/graphql,queries=DIR]
#
# Each peer is peers/<name>/run.sh UPSTREAM PORT, started in its own process group on the
# next port from 8101; a peer is benched once its GraphQL endpoint answers `{ __typename }`.
# A peer with peers/queries/<name>/ gets those query files instead of peers/queries/peers/
# (and queries/<name>/ids.txt, if present, as the ids its queries use; see bench.py).
# Only the processes started here are stopped (by their process-group id) on exit.
# Output: the markdown table on stdout and in $PEERS_RUN/results-<time>.md (+ .json).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.sh"

DURATION=10s CONNS=32 WARMUP=2s SCEN=a,b,c,d
PEER_LIST="tailcall tailcall-cache tailcall-cache-validated switchboard switchboard-noreuse tailcall-validated switchboard-nocache"
UP_PORT=${UPSTREAM_PORT:-8091} BASE_PORT=${PEERS_BASE_PORT:-8101}
START_TIMEOUT=${START_TIMEOUT:-900}   # first start installs packages
while [ $# -gt 0 ]; do
  case $1 in
    -d) DURATION=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    -w) WARMUP=$2; shift 2 ;;
    -s) SCEN=$2; shift 2 ;;
    -p) PEER_LIST=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
EXTRA=("$@")

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$PEERS_RUN/logs-$STAMP
mkdir -p "$LOGS"
PGIDS=()
cleanup() {
  for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  sleep 1
  for g in "${PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

UPSTREAM=http://127.0.0.1:$UP_PORT
port_busy "$UP_PORT" && { echo "port $UP_PORT is in use; set UPSTREAM_PORT" >&2; exit 1; }
setsid python3 "$HERE/fake_upstream.py" --port "$UP_PORT" > "$LOGS/fake_upstream.log" 2>&1 &
PGIDS+=($!)
for _ in $(seq 50); do curl -sf "$UPSTREAM/__stats" >/dev/null && break; sleep 0.2; done
curl -sf "$UPSTREAM/__stats" >/dev/null || { echo "fake upstream did not start" >&2; cat "$LOGS/fake_upstream.log" >&2; exit 1; }

TARGETS=() FAILED=()
port=$BASE_PORT
for name in $PEER_LIST; do
  while port_busy "$port"; do port=$((port + 1)); done
  if [ ! -x "$HERE/$name/run.sh" ]; then FAILED+=("$name: no $name/run.sh"); continue; fi
  echo "[run-all] starting $name on $port (log $LOGS/$name.log)" >&2
  setsid "$HERE/$name/run.sh" "$UPSTREAM" "$port" > "$LOGS/$name.log" 2>&1 &
  pid=$!
  PGIDS+=($pid)
  url=http://127.0.0.1:$port/graphql
  ok=0 t0=$(date +%s)
  while [ $(( $(date +%s) - t0 )) -lt "$START_TIMEOUT" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if curl -sf -m 2 -H 'content-type: application/json' --data '{"query":"{ __typename }"}' "$url" \
        | grep -q '"__typename"'; then ok=1; break; fi
    sleep 0.5
  done
  if [ $ok = 1 ]; then
    spec="$name=$url"
    [ -d "$HERE/queries/$name" ] && spec="$spec,queries=$HERE/queries/$name"
    [ -f "$HERE/queries/$name/ids.txt" ] && spec="$spec,ids=$HERE/queries/$name/ids.txt"
    TARGETS+=("$spec")
    echo "[run-all] $name ready after $(( $(date +%s) - t0 )) s" >&2
  else
    FAILED+=("$name: did not answer on $url (see $LOGS/$name.log)")
    echo "[run-all] $name FAILED; last log lines:" >&2; tail -5 "$LOGS/$name.log" >&2
  fi
  port=$((port + 1))
done

OUT=$PEERS_RUN/results-$STAMP
"$HERE/bench.sh" -u "$UPSTREAM" -d "$DURATION" -c "$CONNS" -w "$WARMUP" -s "$SCEN" \
  -o "$OUT.md" --json "$OUT.json" "${TARGETS[@]}" "${EXTRA[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
  { echo; echo "Not benched:"; for f in "${FAILED[@]}"; do echo "- $f"; done; } | tee -a "$OUT.md"
fi
echo "[run-all] table: $OUT.md; logs: $LOGS" >&2
