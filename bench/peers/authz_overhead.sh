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
OVERHEAD_NAME=authz
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/overhead.sh"
GRANTED=$(token "calls:numbers billing:read audit:read")
MASKED=$(token "calls:read")
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
start plain "$JWT"
start rules "$JWT
$RULES"
ready "$PORT_plain" "$PORT_rules"
P_plain=$(pid_of "$PORT_plain"); P_rules=$(pid_of "$PORT_rules")
curl -sf -XPOST -H 'content-type: application/json' -H "authorization: Bearer $MASKED" -d "$BODY" "http://127.0.0.1:$PORT_rules/graphql"; echo
compare "no-authorization=$PORT_plain:$P_plain:$GRANTED" "rules+every-scope=$PORT_rules:$P_rules:$GRANTED" \
  "rules+no-scope(masked)=$PORT_rules:$P_rules:$MASKED"
