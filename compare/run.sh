#!/usr/bin/env bash
# By-hand comparison of postgraph with PostGraphile v4 (not part of CI).
#
#   compare/run.sh [FIXTURE.sql ...]
#
# Starts a private PostgreSQL, creates two identical databases (one per engine, so that
# mutations in one never change what the other sees), applies migrations/V*.sql, the
# fixture files given (default: tests/fixtures/json_values.sql) and compare/fixtures/*.sql
# (seed rows), then serves each database with one engine, exports both SDLs and runs
# compare/queries/*.graphql against both. Writes compare/out/ and compare/results.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$HERE/out
. "$HERE/lib.sh"
fixtures "$@"
V4PORT=$(free_port)
PGRPORT=$(free_port)

[ -d "$HERE/node_modules/postgraphile" ] || (cd "$HERE" && npm ci --silent)
# PGRAPH: a postgraph binary to use instead of a release build of this checkout.
if [ -z "${PGRAPH:-}" ]; then
  cargo build --release --manifest-path "$ROOT/Cargo.toml" -q
  PGRAPH=$CARGO_TARGET_DIR/release/postgraph
fi

start_cluster
for db in cmp_v4 cmp_pg; do make_db "$db" "${FIXTURES[@]}"; done
allow_login

# Both engines get the same v4 command line (plus V4_FLAGS, which both take too: postgraph
# reads v4's options, e.g. V4_FLAGS="-j -N -M --legacy-relations omit -l 200kB"); PGRAPH_FLAGS
# go to postgraph only, V4_ONLY_FLAGS to PostGraphile only (e.g. its --append-plugins).
rm -f "$OUT/postgraph.graphql" "$OUT/v4.graphql"
"$PGRAPH" serve -c "$(url cmp_pg)" -s app_public --port "$PGRPORT" \
  --jwt-secret "$JWT_SECRET" --jwt-token-identifier app_public.jwt_token \
  --default-role app_anonymous --export-schema-graphql "$OUT/postgraph.graphql" \
  --disable-query-log --extended-errors hint,detail,errcode ${V4_FLAGS:-} ${PGRAPH_FLAGS:-} \
  >"$OUT/postgraph.log" 2>&1 &
PIDS+=($!)

# V4_RC: a .postgraphilerc.js for PostGraphile (its graphileBuildOptions, e.g. the filter
# plugin's options); postgraphile reads it from its working folder.
V4_DIR=$ROOT
if [ -n "${V4_RC:-}" ]; then
  V4_DIR=$DATA/rc; mkdir -p "$V4_DIR"; cp "$V4_RC" "$V4_DIR/.postgraphilerc.js"
  ln -s "$HERE/node_modules" "$V4_DIR/node_modules"
fi
(cd "$V4_DIR" && exec "$HERE/node_modules/.bin/postgraphile" -c "$(url cmp_v4)" -s app_public --port "$V4PORT" \
  --jwt-secret "$JWT_SECRET" --jwt-token-identifier app_public.jwt_token \
  --default-role app_anonymous --export-schema-graphql "$OUT/v4.graphql" \
  --disable-query-log --extended-errors hint,detail,errcode ${V4_FLAGS:-} ${V4_ONLY_FLAGS:-}) \
  >"$OUT/v4.log" 2>&1 &
PIDS+=($!)

wait_up() {
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
      -d '{"query":"{__typename}"}' "http://127.0.0.1:$1/graphql" && return 0
    sleep 0.2
  done
  echo "server on port $1 did not start; see $OUT/*.log" >&2
  return 1
}
wait_up "$V4PORT"
wait_up "$PGRPORT"
for _ in $(seq 1 50); do [ -s "$OUT/v4.graphql" ] && [ -s "$OUT/postgraph.graphql" ] && break; sleep 0.2; done

node "$HERE/compare.js" "http://127.0.0.1:$V4PORT/graphql" "http://127.0.0.1:$PGRPORT/graphql" \
  "$OUT" "$HERE/results.md"
echo "wrote $HERE/results.md"
if [ -n "${HOLD:-}" ]; then
  # Keep both servers up for manual queries until this script is stopped.
  echo "v4: http://127.0.0.1:$V4PORT/graphql  postgraph: http://127.0.0.1:$PGRPORT/graphql" | tee "$OUT/ports"
  wait
fi
