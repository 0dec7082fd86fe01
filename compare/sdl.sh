#!/usr/bin/env bash
# By-hand check (not part of CI) that v4's command lines give the same SDL on postgraph:
#
#   compare/sdl.sh [FIXTURE.sql ...]
#
# One private PostgreSQL, one database (migrations, the fixtures given, default the golden
# corpus' four, and compare/fixtures/*.sql). For each line of compare/command-lines.txt, runs
# `postgraphile` and `postgraph serve` with the same options plus `--export-schema-graphql F
# -X`, and compares the two SDLs (sorted; sdl.js). Writes compare/sdl-results.md and the SDLs
# under compare/out/sdl/. V4_ONLY_FLAGS go to PostGraphile only (default: the connection
# filter plugin, which postgraph has built in), PGRAPH_FLAGS to postgraph only (default
# --aggregates-opt-in: no aggregates, which v4 has only with @graphile/pg-aggregates).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$HERE/out/sdl
. "$HERE/lib.sh"
if [ $# -eq 0 ]; then
  set -- "$ROOT"/tests/fixtures/{json_values,v4_functions,v4_schema,filter}.sql
fi
fixtures "$@"
V4_ONLY_FLAGS=${V4_ONLY_FLAGS-"--append-plugins postgraphile-plugin-connection-filter"}
PGRAPH_FLAGS=${PGRAPH_FLAGS-"--aggregates-opt-in"}

[ -d "$HERE/node_modules/postgraphile" ] || (cd "$HERE" && npm ci --silent)
if [ -z "${PGRAPH:-}" ]; then
  cargo build --manifest-path "$ROOT/Cargo.toml" -q
  PGRAPH=$CARGO_TARGET_DIR/debug/postgraph
fi

start_cluster
make_db cmp "${FIXTURES[@]}"
# For --include-extension-resources: an extension with functions in the exposed schema.
"${PSQL[@]}" -d cmp -c "create extension pg_trgm schema app_public"
allow_login

COMMON=(-c "$(url cmp)" -s app_public --jwt-secret "$JWT_SECRET"
  --jwt-token-identifier app_public.jwt_token --default-role app_anonymous -X)
LABELS=()
while IFS='|' read -r label options; do
  label=$(echo "$label" | xargs)
  [ -z "$label" ] || [ "${label:0:1}" = "#" ] && continue
  LABELS+=("$label")
  read -r -a opts <<<"$options"
  rm -f "$OUT/$label".{v4,postgraph}.graphql
  # shellcheck disable=SC2086
  "$HERE/node_modules/.bin/postgraphile" "${COMMON[@]}" "${opts[@]}" $V4_ONLY_FLAGS \
    --export-schema-graphql "$OUT/$label.v4.graphql" >"$OUT/$label.v4.log" 2>&1 ||
    echo "$label: postgraphile failed, see $OUT/$label.v4.log" >&2
  # shellcheck disable=SC2086
  "$PGRAPH" serve "${COMMON[@]}" "${opts[@]}" $PGRAPH_FLAGS \
    --export-schema-graphql "$OUT/$label.postgraph.graphql" >"$OUT/$label.postgraph.log" 2>&1 ||
    echo "$label: postgraph failed, see $OUT/$label.postgraph.log" >&2
done <"$HERE/command-lines.txt"

node "$HERE/sdl.js" "$OUT" "$HERE/sdl-results.md" "$HERE/command-lines.txt" "${LABELS[@]}"
echo "wrote $HERE/sdl-results.md"
