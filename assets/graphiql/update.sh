#!/usr/bin/env bash
# Refreshes the GraphiQL assets the gateway embeds (src/http/graphiql.rs): production
# builds of React, ReactDOM and GraphiQL from the npm registry, at the versions below,
# with their licenses and SHA-256 checksums. Run it, rebuild, commit the result.
# Bump GRAPHIQL_VERSION in src/http/graphiql.rs too (it versions the asset URLs).
set -euo pipefail
cd "$(dirname "$0")"
GRAPHIQL=4.1.2
REACT=18.3.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
  "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
m="$work/node_modules"
cp "$m/react/umd/react.production.min.js" react.production.min.js
cp "$m/react-dom/umd/react-dom.production.min.js" react-dom.production.min.js
cp "$m/graphiql/graphiql.min.js" graphiql.min.js
cp "$m/graphiql/graphiql.min.css" graphiql.min.css
{
  for p in react react-dom graphiql; do
    echo "== $p $(node -p "require('$m/$p/package.json').version") =="
    cat "$m/$p/LICENSE"
    echo
  done
} > LICENSES
sha256sum react.production.min.js react-dom.production.min.js graphiql.min.js graphiql.min.css init.js > SHA256SUMS
echo "graphiql $GRAPHIQL, react $REACT, react-dom $REACT" > VERSIONS
