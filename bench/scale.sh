#!/usr/bin/env bash
# Scale and reload figures for bench/results.md (issue 23), by hand:
#
#   bench/scale.sh URL DB       URL: a superuser connection string without the database name
#                               (postgres://postgres@127.0.0.1:5432); DB: a database holding
#                               `call gen.generate(N)` of bench/generate_schema.sql.
#   RELOAD=1 bench/scale.sh ...  also: wrk's p99 on a by-id query before and during reloads.
#
# Prints: spawn → /health time and RSS; GraphiQL's introspection query twice (size, time, RSS
# and peak RSS after each: the second answer comes from the schema's cache).
set -euo pipefail
URL=$1 DB=$2
BIN=${BIN:-target/release/postgraph}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ms() { python3 -c "print(round(($2 - $1) * 1000))"; }
kb() { grep "$1" "/proc/$PID/status" | awk '{printf "%.0f MiB", $2 / 1024}'; }

start=$(date +%s.%N)
RUST_LOG=info "$BIN" serve -c "$URL/$DB" --schema gen --port "$PORT" >"$WORK/out" 2>"$WORK/log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do
  kill -0 $PID 2>/dev/null || { tail "$WORK/log"; exit 1; }
  sleep 0.05
done
echo "$DB: /health after $(ms "$start" "$(date +%s.%N)") ms, RSS $(kb VmRSS)"
grep -E "catalog loaded|schema built" "$WORK/log" | sed 's/^.*INFO //'

python3 - >"$WORK/introspection.json" <<'PY'
import json
ref = "kind name"
for _ in range(7):
    ref = "kind name ofType { " + ref + " }"
q = ("query IntrospectionQuery { __schema { queryType { name } mutationType { name } "
     "subscriptionType { name } types { ...FullType } directives { name description locations "
     "args { ...InputValue } } } } fragment FullType on __Type { kind name description "
     "fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } "
     "isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } "
     "enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } "
     "possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description "
     "type { ...TypeRef } defaultValue } fragment TypeRef on __Type { " + ref + " }")
print(json.dumps({"query": q}))
PY
for i in 1 2; do
  s=$(date +%s.%N)
  size=$(curl -s -H 'Content-Type: application/json' --data-binary @"$WORK/introspection.json" \
    "http://127.0.0.1:$PORT/graphql" | wc -c)
  echo "introspection $i: $size bytes in $(ms "$s" "$(date +%s.%N)") ms; RSS $(kb VmRSS), peak $(kb VmHWM)"
done

if [ "${RELOAD:-}" = 1 ]; then
  echo '{"query": "{ t1ById(id: 1) { id name } }"}' >"$WORK/body.json"
  run_wrk() { BENCH_BODY_FILE="$WORK/body.json" wrk -t2 -c8 -d10s --latency -s "$HERE/wrk.lua" \
    "http://127.0.0.1:$PORT/graphql" | grep -E "Requests/sec|^ +(50|99)%"; }
  echo "before reloads:"; run_wrk
  (for _ in 1 2 3 4; do sleep 2; psql "$URL/$DB" -qc "notify postgraph, 'reload schema'"; done) &
  echo "during 4 reloads:"; run_wrk
  wait
  sleep "${RELOAD_SETTLE:-20}"  # rebuilds still running after wrk (triggers coalesce)
  grep "schema reloaded" "$WORK/log" | sed 's/^.*INFO //' || echo "no reload finished yet"
fi
