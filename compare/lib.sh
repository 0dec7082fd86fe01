# Shared by run.sh and sdl.sh (sourced): a private PostgreSQL on a free port, and databases
# holding the example app's migrations plus fixtures. Needs HERE, ROOT, OUT set.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/initdb" ] || PGBIN=/usr/local/bin
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
JWT_SECRET=compare-secret-0123456789abcdef-0123456789abcdef
mkdir -p "$OUT"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port)
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

start_cluster() {
  as_pg "$PGBIN/initdb" -D "$DATA/db" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$OUT/initdb.log"
  as_pg "$PGBIN/pg_ctl" -D "$DATA/db" -l "$DATA/postgres.log" -w \
    -o "-p $PGPORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC" start >/dev/null
}

PSQL=(psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)

# make_db NAME FIXTURE...: the migrations in order, the fixtures, then compare/fixtures/*.sql.
make_db() {
  local db=$1
  shift
  "${PSQL[@]}" -d postgres -c "create database $db"
  for m in $(ls "$ROOT"/migrations/V*__*.sql | sort -V); do "${PSQL[@]}" -d "$db" -f "$m"; done
  for f in "$@"; do "${PSQL[@]}" -d "$db" -f "$f"; done
  for f in "$HERE"/fixtures/*.sql; do "${PSQL[@]}" -d "$db" -f "$f"; done
}

# The authenticator may log in (with the password `compare`) once the databases exist.
url() { echo "postgres://app_authenticator:compare@127.0.0.1:$PGPORT/$1"; }
allow_login() { "${PSQL[@]}" -d postgres -c "alter role app_authenticator password 'compare'"; }

# Absolute paths of the fixture files given (default: tests/fixtures/json_values.sql).
fixtures() {
  if [ $# -eq 0 ]; then set -- "$ROOT/tests/fixtures/json_values.sql"; fi
  FIXTURES=()
  for f in "$@"; do FIXTURES+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
}
