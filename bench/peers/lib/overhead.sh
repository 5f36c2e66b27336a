# Shared by the *_overhead.sh scripts (sourced after ROUNDS and EXTRA are set): the fake
# upstream, an RS256 key with `token SCOPES`, `start NAME EXTRA_TOML` (a gateway from
# this checkout's binary with [auth.jwt] plus EXTRA_TOML), `measure PORT PID TOKEN`
# ("rps cpu_us_per_request" of scenario a), `pid_of PORT`, `ready PORT...`.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$HERE/lib/common.sh"
find_oha
REPO=$(cd "$HERE/../.." && pwd)
BIN=${SWITCHBOARD_BIN:-$REPO/target/release/switchboard}
[ -x "$BIN" ] || (cd "$REPO" && cargo build --release --locked --bin switchboard >&2)
DURATION=${DURATION:-6s}
WORK=$(mktemp -d "$PEERS_RUN/${OVERHEAD_NAME:-overhead}.XXXX")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# An RSA key; `token SCOPES` is an RS256 token signed with it.
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
start() { # name extra-toml -> sets PORT_<name>, PID_<name>
  local port; port=$(free_port)
  SWITCHBOARD_BIN=$BIN SWITCHBOARD_EXTRA_TOML="$2
$EXTRA" PEERS_RUN=$WORK "$HERE/switchboard/run.sh" "http://127.0.0.1:$UP" "$port" >"$WORK/$1.log" 2>&1 &
  pids+=($!)
  printf -v "PORT_$1" '%s' "$port"
  printf -v "PID_$1" '%s' "$!"
}
ready() { # ports...
  for port in "$@"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
}
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

# `compare NAME=PORT:PID:TOKEN...`: ROUNDS rounds alternating between the cases, each line
# "round N NAME: rps cpu_us_per_request = ...", then every case's median CPU per request
# and its difference to the first case's.
compare() {
  local round spec name rest port pid tok r
  declare -A cpu
  for round in $(seq "$ROUNDS"); do
    for spec in "$@"; do
      name=${spec%%=*} rest=${spec#*=}
      IFS=: read -r port pid tok <<<"$rest"
      r=$(measure "$port" "$pid" "$tok")
      echo "round $round $name: rps cpu_us_per_request = $r"
      cpu[$name]+="${r#* } "
    done
  done
  local args=()
  for spec in "$@"; do args+=("${spec%%=*}=${cpu[${spec%%=*}]}"); done
  python3 - "${args[@]}" <<'PY'
import statistics, sys
cases = [(a.split("=", 1)[0], statistics.median(map(float, a.split("=", 1)[1].split()))) for a in sys.argv[1:]]
base = cases[0][1]
print("median CPU us/request: " + ", ".join(
    f"{name} {us:.1f}" + ("" if i == 0 else f" ({us / base - 1:+.1%})") for i, (name, us) in enumerate(cases)))
PY
}
