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
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/initdb" ] || PGBIN=/usr/local/bin
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
JWT_SECRET=compare-secret-0123456789abcdef-0123456789abcdef
OUT=$HERE/out
mkdir -p "$OUT"

if [ $# -eq 0 ]; then set -- "$ROOT/tests/fixtures/json_values.sql"; fi
FIXTURES=()
for f in "$@"; do FIXTURES+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port)
V4PORT=$(free_port)
PGRPORT=$(free_port)

[ -d "$HERE/node_modules/postgraphile" ] || (cd "$HERE" && npm ci --silent)
cargo build --release --manifest-path "$ROOT/Cargo.toml" -q
PGRAPH=$CARGO_TARGET_DIR/release/postgraph

DATA=$(mktemp -d /tmp/compare-pg.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$DATA/db" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

# initdb and postgres refuse to run as root: run them as `postgres` in a folder it owns.
if [ "$(id -u)" = 0 ]; then
  chown postgres "$DATA"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
as_pg "$PGBIN/initdb" -D "$DATA/db" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$OUT/initdb.log"
as_pg "$PGBIN/pg_ctl" -D "$DATA/db" -l "$DATA/postgres.log" -w \
  -o "-p $PGPORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC" start >/dev/null

PSQL=(psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
for db in cmp_v4 cmp_pg; do
  "${PSQL[@]}" -d postgres -c "create database $db"
  for m in $(ls "$ROOT"/migrations/V*__*.sql | sort -V); do "${PSQL[@]}" -d "$db" -f "$m"; done
  for f in "${FIXTURES[@]}"; do "${PSQL[@]}" -d "$db" -f "$f"; done
  for f in "$HERE"/fixtures/*.sql; do "${PSQL[@]}" -d "$db" -f "$f"; done
done
"${PSQL[@]}" -d postgres -c "alter role app_authenticator password 'compare'"
url() { echo "postgres://app_authenticator:compare@127.0.0.1:$PGPORT/$1"; }

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
