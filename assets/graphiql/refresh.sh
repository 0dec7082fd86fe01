#!/usr/bin/env bash
# Refreshes the GraphiQL files that postgraph embeds (include_bytes!, src/http/graphiql.rs)
# from their npm packages: the minified UMD builds of graphiql, react and react-dom, and their
# licenses. Usage: assets/graphiql/refresh.sh [graphiql-version] (default 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${1:-3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "graphiql@$version" react@18 react-dom@18 >/dev/null
m=node_modules
cp "$m/graphiql/graphiql.min.js" "$m/graphiql/graphiql.min.css" "$here/"
cp "$m/react/umd/react.production.min.js" "$m/react-dom/umd/react-dom.production.min.js" "$here/"
cp "$m/graphiql/LICENSE" "$here/LICENSE.graphiql"
cp "$m/react/LICENSE" "$here/LICENSE.react"
cp "$m/react-dom/LICENSE" "$here/LICENSE.react-dom"
for p in graphiql react react-dom; do
  echo "$p $(node -p "require('./$m/$p/package.json').version")"
done >"$here/VERSIONS"
echo "refreshed:"; cat "$here/VERSIONS"
