#!/usr/bin/env bash
# RSS under a long load: switchboard's resident memory, sampled while it serves a mix of
# queries for a fixed time, so "RSS stays flat" can be shown and rerun.
#
#   peers/rss_soak.sh [-d 600s] [-q 8000] [-c 32] [-i 10]
#
# Starts the fake upstream and switchboard (switchboard/run.sh: this checkout's release
# build, built when stale; SWITCHBOARD_BIN overrides), writes 500 request bodies (the 200
# `node` queries of scenario d, the 200 `node` + events queries of scenario c, and pages of
# 1 to 100 logs), runs `oha -z DURATION -q RATE -c CONNS` over them in turn, and prints
# VmRSS every -i seconds, then idle, first-minute and later figures and the status codes.
# Only the processes started here are stopped on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.sh"

DURATION=600s RATE=8000 CONNS=32 EVERY=10
while [ $# -gt 0 ]; do
  case $1 in
    -d) DURATION=$2; shift 2 ;;
    -q) RATE=$2; shift 2 ;;
    -c) CONNS=$2; shift 2 ;;
    -i) EVERY=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

find_oha || { echo "rss_soak.sh needs oha (its -Z body lines), and installing it failed" >&2; exit 1; }

UP_PORT=${UPSTREAM_PORT:-8091} PORT=${SOAK_PORT:-8290}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DIR=$PEERS_RUN/soak-$STAMP
mkdir -p "$DIR"
PGIDS=()
cleanup() { for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

setsid python3 "$HERE/fake_upstream.py" --port "$UP_PORT" > "$DIR/fake_upstream.log" 2>&1 &
PGIDS+=($!)
setsid "$HERE/switchboard/run.sh" "http://127.0.0.1:$UP_PORT" "$PORT" > "$DIR/switchboard.log" 2>&1 &
PGIDS+=($!)
URL=http://127.0.0.1:$PORT/graphql
for _ in $(seq 3000); do
  curl -sf -H 'content-type: application/json' -d '{"query":"{ __typename }"}' "$URL" >/dev/null && break
  sleep 0.2
done
PID=$(ss -ltnpH "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$PID" ] || { echo "switchboard did not start" >&2; cat "$DIR/switchboard.log" >&2; exit 1; }

python3 - "$HERE/queries/switchboard" "$DIR/bodies.txt" <<'PY'
import json, sys
queries, out = sys.argv[1], sys.argv[2]
def text(name):
    return "\n".join(l for l in open(f"{queries}/{name}") if not l.startswith("#"))
ids = [l.strip() for l in open(f"{queries}/ids.txt") if l.strip()]
a, c, b = text("a_by_id.graphql"), text("c_events.graphql"), text("b_page.graphql")
bodies = [a.replace("__ID__", i) for i in ids] + [c.replace("__ID__", i) for i in ids]
bodies += [b.replace("first: 20", f"first: {n}") for n in range(1, 101)]
with open(out, "w") as f:
    for q in bodies:
        f.write(json.dumps({"query": q}) + "\n")
PY

rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }
echo "switchboard pid $PID; idle RSS $(rss) MiB; $(wc -l < "$DIR/bodies.txt") bodies; oha -z $DURATION -q $RATE -c $CONNS"
"$OHA" -z "$DURATION" -q "$RATE" -c "$CONNS" --no-tui --output-format json -m POST \
  -H 'content-type: application/json' -Z "$DIR/bodies.txt" "$URL" > "$DIR/oha.json" &
LOAD=$!
START=$(date +%s)
: > "$DIR/rss.txt"
while kill -0 "$LOAD" 2>/dev/null; do
  sleep "$EVERY"
  kill -0 "$LOAD" 2>/dev/null || break
  printf '%s %s\n' "$(( $(date +%s) - START ))" "$(rss)" | tee -a "$DIR/rss.txt"
done
wait "$LOAD"
python3 - "$DIR/rss.txt" "$DIR/oha.json" <<'PY'
import json, sys
samples = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
later = [r for t, r in samples if t > 60]
d = json.load(open(sys.argv[2]))
codes = d.get("statusCodeDistribution") or {}
print(f"requests: {sum(codes.values())} ({codes}), errors {d.get('errorDistribution') or {}}")
first = [r for t, r in samples if t <= 60]
if first:
    print(f"RSS after the first minute: {first[-1]:.1f} MiB")
if later:
    print(f"RSS from then to the end: {min(later):.1f} to {max(later):.1f} MiB ({len(later)} samples)")
PY
echo "RSS at the end: $(rss) MiB; samples in $DIR/rss.txt"
