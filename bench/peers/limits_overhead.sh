#!/usr/bin/env bash
# What [limits] (cost budgets) costs per request: scenario a (node by id) against the fake
# upstream, signed in with a JWT, on two gateways from one binary: one without [limits],
# one with a tenant and a user budget far above what the run spends (every request is
# estimated, reserved, settled and reported; none is refused). Rounds alternate between the
# two so machine noise hits both; each prints RPS and the gateway's CPU per request (from
# /proc/<pid>/stat), then the medians.
# Usage: bench/peers/limits_overhead.sh [ROUNDS] [EXTRA_TOML]
#   EXTRA_TOML is appended to both configs, e.g. $'[cache]\nmax_response_bytes = 0'
#   to measure the executed path (reuse off) instead of reused answers.
# Env: SWITCHBOARD_BIN (default: this checkout's release build), DURATION (6s).
set -euo pipefail
ROUNDS=${1:-4}
EXTRA=${2:-}
OVERHEAD_NAME=limits
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/overhead.sh"
TOKEN=$(token "calls:read")
LIMITS=$(cat <<'TOML'
[limits]
tenant_cost_per_minute = 60000000
user_cost_per_minute = 60000000
TOML
)
start plain "$JWT"
start limits "$JWT
$LIMITS"
ready "$PORT_plain" "$PORT_limits"
P_plain=$(pid_of "$PORT_plain"); P_limits=$(pid_of "$PORT_limits")
curl -sf -XPOST -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "$BODY" "http://127.0.0.1:$PORT_limits/graphql"; echo
compare "no-limits=$PORT_plain:$P_plain:$TOKEN" "limits=$PORT_limits:$P_limits:$TOKEN"
