#!/usr/bin/env bash
# switchboard peer: run.sh UPSTREAM_BASE_URL PORT
# Writes a TOML config with only [server] listen and [providers.signalwire] (space_url =
# UPSTREAM_BASE_URL, the harness's Basic credentials from lib/common.sh) into
# $PEERS_RUN/switchboard-PORT and runs the release binary in the foreground on 127.0.0.1:PORT.
# Everything else is switchboard's defaults (cache on: final calls 6 h, pages 30 s;
# upstream page_size 100). Without SWITCHBOARD_BIN it runs this checkout's release build,
# building it first (`cargo build --release --locked`) when it is missing or older than the source.
# Env: SWITCHBOARD_BIN (default: <repo>/target/release/switchboard, built as above),
#      RUST_LOG (default: switchboard's own, info; it logs nothing per request),
#      SWITCHBOARD_EXTRA_TOML (appended to the config, e.g. a [cache] section; the
#      switchboard-noreuse and switchboard-nocache rows set it).
set -euo pipefail
UPSTREAM=${1:?usage: run.sh UPSTREAM_BASE_URL PORT}
PORT=${2:?usage: run.sh UPSTREAM_BASE_URL PORT}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib/common.sh"

REPO=$(cd "$HERE/../../.." && pwd)
if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  BIN=$REPO/target/release/switchboard
  if [ ! -x "$BIN" ] || [ -n "$(find "$REPO/src" "$REPO/Cargo.toml" "$REPO/Cargo.lock" -newer "$BIN" -print -quit)" ]; then
    log "building switchboard (cargo build --release --locked in $REPO)"
    (cd "$REPO" && cargo build --release --locked --bin switchboard >&2)
  fi
else
  BIN=$SWITCHBOARD_BIN
fi
[ -x "$BIN" ] || { log "no switchboard binary at $BIN"; exit 1; }
DIR=$PEERS_RUN/switchboard-$PORT
mkdir -p "$DIR"
cat > "$DIR/switchboard.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"

[providers.signalwire]
space_url = "${UPSTREAM%/}"
project_id = "$SW_PROJECT_ID"
api_token = "$SW_API_TOKEN"
${SWITCHBOARD_EXTRA_TOML:-}
TOML
log "switchboard ($BIN) on http://127.0.0.1:$PORT/graphql -> $UPSTREAM"
cd "$DIR"
exec "$BIN" --config "$DIR/switchboard.toml"
