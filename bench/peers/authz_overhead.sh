#!/usr/bin/env bash
# What [authorization] costs per request: scenario a (node by id, `from` and `to`
# selected) against the fake upstream, signed in with a JWT, on two gateways from one
# binary: one with [auth.jwt] only, one with [auth.jwt] and the README's rules. The second
# is asked with a token holding every scope (unmasked, audited) and with one holding none
# (masked). Rounds alternate between the three so machine noise hits all of them; each
# prints RPS and the gateway's CPU per request (from /proc/<pid>/stat), then the medians.
# Usage: bench/peers/authz_overhead.sh [ROUNDS] [EXTRA_TOML]
#   EXTRA_TOML is appended to both configs, e.g. $'[cache]\nmax_response_bytes = 0'
#   to measure the executed path (reuse off) instead of reused answers.
# Env: SWITCHBOARD_BIN (default: this checkout's release build), DURATION (6s).
set -euo pipefail
ROUNDS=${1:-4}
EXTRA=${2:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/common.sh"
find_oha
REPO=$(cd "$HERE/../.." && pwd)
BIN=${SWITCHBOARD_BIN:-$REPO/target/release/switchboard}
[ -x "$BIN" ] || (cd "$REPO" && cargo build --release --locked --bin switchboard >&2)
DURATION=${DURATION:-6s}
WORK=$(mktemp -d "$PEERS_RUN/authz.XXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# An RSA key and two RS256 tokens signed with it.
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
openssl rsa -in "$WORK/key.pem" -pubout -out "$WORK/pub.pem" 2>/dev/null
token() {
  local header payload now
  now=$(date +%s)
  header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
  payload=$(printf '{"iss":"https://id.bench/","aud":"switchboard","sub":"bench","iat":%d,"exp":%d,"scope":"%s"}' \
    "$now" "$((now + 3600))" "$1" | b64url)
  printf '%s.%s.%s' "$header" "$payload" \
    "$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$WORK/key.pem" -binary | b64url)"
}
GRANTED=$(token "calls:numbers billing:read audit:read")
MASKED=$(token "calls:read")

UP=$(free_port)
python3 "$HERE/fake_upstream.py" --port "$UP" >"$WORK/upstream.log" 2>&1 &
pids+=($!)
JWT=$(cat <<TOML
[auth.jwt]
issuer = "https://id.bench/"
audiences = ["switchboard"]
algorithms = ["RS256"]
public_key_pem = """
$(cat "$WORK/pub.pem")
"""
TOML
)
RULES=$(cat <<'TOML'
[authorization]
scopes_claim = "scope"
[authorization.fields]
"CallLog.from" = { requires = "calls:numbers", otherwise = "mask" }
"CallLog.to"   = { requires = "calls:numbers", otherwise = "mask" }
"CallLog.cost" = { requires = "billing:read",  otherwise = "forbid" }
"Query.voximplantAuditLog" = { requires = "audit:read", otherwise = "forbid" }
TOML
)
start() { # name extra-toml -> sets PORT_<name>, PID_<name>
  local port; port=$(free_port)
  SWITCHBOARD_BIN=$BIN SWITCHBOARD_EXTRA_TOML="$2
$EXTRA" PEERS_RUN=$WORK "$HERE/switchboard/run.sh" "http://127.0.0.1:$UP" "$port" >"$WORK/$1.log" 2>&1 &
  pids+=($!)
  printf -v "PORT_$1" '%s' "$port"
  printf -v "PID_$1" '%s' "$!"
}
start plain "$JWT"
start rules "$JWT
$RULES"
for port in $PORT_plain $PORT_rules; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done
ID=$(head -1 "$HERE/queries/switchboard/ids.txt")
BODY=$(python3 -c "import json,sys; print(json.dumps({'query': open('$HERE/queries/switchboard/a_by_id.graphql').read().replace('__ID__', '$ID')}))")

measure() { # port pid token -> "rps cpu_us"
  local port=$1 pid=$2 tok=$3 c0 c1 rps
  local args=(-c 32 --no-tui -m POST -H 'content-type: application/json' -H "authorization: Bearer $tok" -d "$BODY" "http://127.0.0.1:$port/graphql")
  "$OHA" -z 2s "${args[@]}" >/dev/null
  c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  "$OHA" -z "$DURATION" "${args[@]}" >"$WORK/oha.out"
  c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  rps=$(awk '/Requests\/sec/ {print $2; exit}' "$WORK/oha.out")
  python3 -c "r=$rps; d=float('${DURATION%s}'); print(f'{r:.0f} {($c1-$c0)/100/(r*d)*1e6:.1f}')"
}
# The gateway's own pid under run.sh's exec.
pid_of() { pgrep -f -- "--config $WORK/switchboard-$1/" | head -1; }
P_plain=$(pid_of "$PORT_plain"); P_rules=$(pid_of "$PORT_rules")
curl -sf -XPOST -H 'content-type: application/json' -H "authorization: Bearer $MASKED" -d "$BODY" "http://127.0.0.1:$PORT_rules/graphql"; echo
declare -A cpu
for round in $(seq "$ROUNDS"); do
  for case in plain granted masked; do
    case $case in
      plain) r=$(measure "$PORT_plain" "$P_plain" "$GRANTED") ;;
      granted) r=$(measure "$PORT_rules" "$P_rules" "$GRANTED") ;;
      masked) r=$(measure "$PORT_rules" "$P_rules" "$MASKED") ;;
    esac
    echo "round $round $case: rps cpu_us_per_request = $r"
    cpu[$case]+="${r#* } "
  done
done
python3 - "${cpu[plain]}" "${cpu[granted]}" "${cpu[masked]}" <<'PY'
import statistics, sys
plain, granted, masked = (statistics.median(map(float, a.split())) for a in sys.argv[1:])
print(f"median CPU us/request: no [authorization] {plain:.1f}, rules + every scope {granted:.1f} "
      f"({granted / plain - 1:+.1%}), rules + no scope (masked) {masked:.1f} ({masked / plain - 1:+.1%})")
PY
