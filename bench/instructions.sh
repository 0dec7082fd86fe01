#!/usr/bin/env bash
# Instructions per request, counted by callgrind: a figure that does not depend on how busy the
# machine is (wall-clock and CPU time on a shared 2-core machine move by tens of per cent).
#
#   bench/instructions.sh setup [BIN]                # once: a private cluster, the example app seeded
#   bench/instructions.sh postgraph BIN [FLAGS...]   # postgraph's instructions per request
#   bench/instructions.sh postgres BIN [FLAGS...]    # Postgres' (one backend), postgraph at full speed
#   bench/instructions.sh pgbench SCRIPT [USER]      # Postgres' per pgbench transaction of SCRIPT
#   bench/instructions.sh stop
#
# One connection, one request at a time (curl over one keep-alive connection), N requests after
# W warm-up requests; postgraph's callgrind counters are zeroed after the warm-up and dumped
# after the N (callgrind_control), so startup and schema build are not counted; Postgres' and
# pgbench's are the difference between runs of W and W + N. OPS picks the operations:
# list, list-auth, by-pk, nested, me, create-post. Needs valgrind, curl, the PostgreSQL server
# binaries (with pgbench), and root or the postgres user's rights to run them.
set -euo pipefail

WORK=${WORK:-/tmp/postgraph-instructions}
N=${N:-300}
W=${W:-30}
OPS=${OPS:-list list-auth by-pk me create-post}
PGBIN=${PGBIN:-$(pg_config --bindir)}
SECRET=postgraph-bench-secret-at-least-32-bytes
SOCK=$WORK/sock
PORT=5432
DB=postgraph

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d "$DB" "$@"; }

start_pg() { # [wrapper...]: starts the cluster, under the wrapper when given
  local log=$WORK/postgres.log
  as_pg "$@" "$PGBIN/postgres" -D "$WORK/data" -k "$SOCK" -p "$PORT" -c listen_addresses='' \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off \
    >"$log" 2>&1 &
  echo $! >"$WORK/postgres.pid"
  for _ in $(seq 600); do
    "$PGBIN/pg_isready" -q -h "$SOCK" -p "$PORT" && return 0
    sleep 0.2
  done
  echo "postgres did not start: $(tail -5 "$log")" >&2
  exit 1
}

stop_pg() {
  [ -f "$WORK/postgres.pid" ] || return 0
  local pid; pid=$(cat "$WORK/postgres.pid")
  # The postmaster (under valgrind or not) may be a child of runuser: its own pid file names it.
  [ -f "$WORK/data/postmaster.pid" ] && kill -INT "$(head -1 "$WORK/data/postmaster.pid")" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  rm -f "$WORK/postgres.pid"
}

setup() {
  stop_pg
  rm -rf "$WORK" && mkdir -p "$WORK/data" "$SOCK"
  [ "$(id -u)" = 0 ] && chown -R postgres "$WORK"
  as_pg "$PGBIN/initdb" -A trust -U postgres -D "$WORK/data" >/dev/null
  start_pg
  "$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U postgres "$DB"
  "${BIN:-target/release/postgraph}" migrate --dir migrations \
    --connection "host=$SOCK port=$PORT user=postgres dbname=$DB" >/dev/null
  # The load benchmark's seed (benches/load/cluster.rs), at a tenth of its size.
  psql_admin <<'SQL'
do $$
declare hash text := public.crypt('bench-password', public.gen_salt('bf'));
begin
  insert into app_public.users (username, name, created_at)
  select 'user' || g, 'User ' || g, now() - make_interval(mins => 1000 - g) from generate_series(1, 1000) g;
  insert into app_public.users (username, name) values ('writer', 'Benchmark writer');
  insert into app_private.user_accounts (user_id, email, password_hash)
  select id, username || '@example.com', hash from app_public.users;
  insert into app_public.posts (author_id, title, body, published, created_at)
  select (g - 1) % 1000 + 1, 'Post number ' || g,
         'Body of post ' || g || '. ' || repeat('Lorem ipsum dolor sit amet, consectetur. ', 1 + g % 4),
         true, now() - make_interval(secs => 10000 - g)
    from generate_series(1, 10000) g order by g;
end $$;
vacuum analyze;
SQL
  echo "cluster ready in $WORK (socket $SOCK)"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server BIN WRAPPER [FLAGS...]: postgraph on one pooled connection.
start_server() {
  local bin=$1 wrapper=$2; shift 2
  HTTP_PORT=$(free_port)
  # shellcheck disable=SC2086
  RUST_LOG=warn $wrapper "$bin" serve --connection "host=$SOCK port=$PORT user=app_authenticator dbname=$DB" \
    --host 127.0.0.1 --port "$HTTP_PORT" --schema app_public --jwt-secret "$SECRET" \
    --jwt-token-identifier app_public.jwt_token --default-role app_anonymous \
    --statement-timeout 30000 --max-pool-size 1 "$@" >"$WORK/postgraph.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1200); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/health" >/dev/null && return 0
    kill -0 $SERVER_PID 2>/dev/null || { cat "$WORK/postgraph.log" >&2; exit 1; }
    sleep 0.25
  done
  echo "postgraph did not start" >&2; exit 1
}

gql() { # body [token]
  curl -sf "http://127.0.0.1:$HTTP_PORT/graphql" -H 'content-type: application/json' \
    ${2:+-H "authorization: Bearer $2"} --data-binary "$1"
}

body_of() {
  case $1 in
    list|list-auth) echo '{"query":"{ allPosts(first: 20) { nodes { id title body createdAt } } }"}' ;;
    by-pk) echo '{"query":"query($id: Int!) { postById(id: $id) { id title body } }","variables":{"id":4242}}' ;;
    nested) echo '{"query":"{ allUsers(first: 10) { nodes { username postsByAuthorId(first: 5) { nodes { title userByAuthorId { username } } } } } }"}' ;;
    me) echo '{"query":"{ me { id username name createdAt } }"}' ;;
    create-post) echo '{"query":"mutation { createPost(input: {post: {title: \"bench\", body: \"written\", published: true}}) { post { id title } } }"}' ;;
    *) echo "unknown operation $1" >&2; exit 1 ;;
  esac
}

token_for() { # email
  gql "{\"query\":\"mutation { signin(input: {email: \\\"$1\\\", password: \\\"bench-password\\\"}) { jwtToken } }\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signin"]["jwtToken"])'
}

# send OP COUNT: COUNT identical requests over one keep-alive connection.
send() {
  local op=$1 count=$2 token=""
  case $op in list-auth|me) token=$READER ;; create-post) token=$WRITER ;; esac
  body_of "$op" >"$WORK/body.json"
  : >"$WORK/curl.cfg"
  for _ in $(seq "$count"); do
    printf 'url = "http://127.0.0.1:%s/graphql"\noutput = /dev/null\n' "$HTTP_PORT" >>"$WORK/curl.cfg"
  done
  curl -sf -K "$WORK/curl.cfg" -H 'content-type: application/json' \
    ${token:+-H "authorization: Bearer $token"} --data-binary "@$WORK/body.json"
}

# total instructions in the newest callgrind dump of PID
dumped() {
  local pid=$1 f
  f=$(ls -t "$WORK"/callgrind.out."$pid"* | head -1)
  awk '/^(summary|totals):/ {print $2; exit}' "$f"
}

# measure PID: prints instructions per request for each operation
measure() {
  local pid=$1 op total
  for op in $OPS; do
    send "$op" "$W"
    callgrind_control -z "$pid" >/dev/null 2>&1
    send "$op" "$N"
    callgrind_control -d "$op" "$pid" >/dev/null 2>&1
    total=$(dumped "$pid")
    printf '%s\t%d\n' "$op" $((total / N))
  done
}

backend_pid() { # the one backend of app_authenticator
  psql_admin -At -c "select pid from pg_stat_activity where usename = 'app_authenticator' and backend_type = 'client backend' and query not ilike 'listen%' order by state_change desc limit 1"
}

case ${1:-} in
  setup) BIN=${2:-${BIN:-target/release/postgraph}} setup ;;
  stop) stop_pg ;;
  postgraph)
    bin=$2; shift 2
    pgrep -F "$WORK/postgres.pid" >/dev/null 2>&1 || start_pg
    start_server "$bin" "valgrind --tool=callgrind --callgrind-out-file=$WORK/callgrind.out.%p" "$@"
    READER=$(token_for user1@example.com); WRITER=$(token_for writer@example.com)
    # valgrind runs the binary in the same process: its pid is the server's
    measure "$SERVER_PID"
    kill -INT "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    ;;
  postgres)
    # Each count on a fresh postgraph (one pooled connection, so one backend), whose backend
    # writes its callgrind file when postgraph stops: W and W + N requests, the difference is
    # N requests' worth (connecting, preparing and the sign-ins cancel out).
    bin=$2; shift 2
    stop_pg
    start_pg valgrind --tool=callgrind --trace-children=yes "--callgrind-out-file=$WORK/callgrind.out.%p"
    for op in $OPS; do
      totals=()
      for count in "$W" $((W + N)); do
        start_server "$bin" "" "$@"
        READER=$(token_for user1@example.com); WRITER=$(token_for writer@example.com)
        send "$op" "$count"
        backend=$(backend_pid)
        kill -INT "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$backend" 2>/dev/null || break; sleep 0.2; done
        sleep 1
        totals+=("$(awk '/^(summary|totals):/ {print $2; exit}' "$WORK/callgrind.out.$backend")")
      done
      [ -n "${DEBUG:-}" ] && echo "totals ${totals[*]}" >&2
      printf '%s\t%d\n' "$op" $(((totals[1] - totals[0]) / N))
    done
    stop_pg
    ;;
  pgbench)
    # Two runs of different lengths, each on a backend of its own whose callgrind file is
    # written when it exits: the difference is N transactions' worth.
    script=$2 user=${3:-app_authenticator}
    stop_pg
    start_pg valgrind --tool=callgrind --trace-children=yes "--callgrind-out-file=$WORK/callgrind.out.%p"
    totals=()
    for count in "$W" $((W + N)); do
      before=$(ls "$WORK"/callgrind.out.* 2>/dev/null | sort)
      "$PGBIN/pgbench" -n -M prepared -h "$SOCK" -p "$PORT" -U "$user" -c 1 -t "$count" -f "$script" "$DB" >/dev/null
      sleep 2
      new=$(comm -13 <(echo "$before") <(ls "$WORK"/callgrind.out.* | sort))
      # the biggest new file is the pgbench backend (others are short-lived helpers)
      best=0
      for f in $new; do t=$(awk '/^(summary|totals):/ {print $2; exit}' "$f"); [ "$t" -gt "$best" ] && best=$t; done
      totals+=("$best")
    done
    printf 'pgbench\t%d\n' $(((totals[1] - totals[0]) / N))
    stop_pg
    ;;
  *) sed -n 2,16p "$0"; exit 2 ;;
esac
