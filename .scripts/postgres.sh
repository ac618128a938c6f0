#!/usr/bin/env bash
# The project-local PostgreSQL cluster: `postgres.sh start|stop|status`.
# With POSTGRES_HOST set, an existing server is used and nothing is started.
source "$(dirname "$0")/lib.sh"

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || dir="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"
  [ -x "$dir/initdb" ] || die "PostgreSQL server programs (initdb, pg_ctl) not found.
  Run 'make install-system-packages' (apt-get install postgresql postgresql-<major>-hll),
  or point POSTGRES_HOST at an existing server."
  echo "$dir"
}

# initdb and postgres refuse to run as root: run them as the postgres OS user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster lives in the git-ignored .postgres folder, unless the postgres OS user cannot reach
# it (for example a clone below /root): then in that user's home, one folder per configured path.
cluster_dir() {
  local dir="$POSTGRES_LOCAL_DIR"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "there is no 'postgres' OS user; install the postgresql package"
    mkdir -p "$dir"
    if ! runuser -u postgres -- test -x "$(dirname "$dir")"; then
      dir="$(getent passwd postgres | cut -d: -f6)/clusters/$(basename "$PROJECT_ROOT")-$(echo "$dir" | md5sum | cut -c1-8)"
      mkdir -p "$dir"
    fi
    chown postgres:postgres "$dir"
  fi
  echo "$dir"
}

start() {
  if [ -n "$POSTGRES_HOST" ]; then
    pg_isready -q -t 10 || die "the PostgreSQL server at $POSTGRES_HOST:$POSTGRES_PORT (POSTGRES_HOST) does not answer"
    info "Using the existing PostgreSQL server at $POSTGRES_HOST:$POSTGRES_PORT"
    return
  fi
  local bindir dir
  bindir="$(pg_bindir)"
  dir="$(cluster_dir)"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    info "Creating a PostgreSQL cluster in $dir/data (superuser '$POSTGRES_USER', trusting local connections)"
    as_owner "$bindir/initdb" --pgdata="$dir/data" --username="$POSTGRES_USER" --auth=trust \
      --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_owner mkdir -p "$dir/run"
    as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF

# Project-local cluster (written by .scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/run'
include_if_exists = '$PROJECT_ROOT/docs/postgresql.conf'
CONF
  fi
  if as_owner "$bindir/pg_ctl" status --pgdata="$dir/data" >/dev/null 2>&1; then
    info "PostgreSQL is already running ($dir/data)"
    return
  fi
  if pg_isready -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 2 || (exec 3<>"/dev/tcp/127.0.0.1/$POSTGRES_PORT") 2>/dev/null; then
    die "port $POSTGRES_PORT is taken by another program. Stop it, set POSTGRES_PORT to a free port,
  or set POSTGRES_HOST (with POSTGRES_USER and POSTGRES_PASSWORD) to use the server that listens there."
  fi
  info "Starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT ($dir/data)"
  as_owner "$bindir/pg_ctl" start --pgdata="$dir/data" --log="$dir/postgresql.log" --wait --timeout=60 \
    -o "-p $POSTGRES_PORT" >/dev/null || { tail -n 20 "$dir/postgresql.log" >&2; die "PostgreSQL did not start (log: $dir/postgresql.log)"; }
}

stop() {
  [ -z "$POSTGRES_HOST" ] || { info "POSTGRES_HOST is set: not stopping an external server"; return; }
  local bindir dir
  bindir="$(pg_bindir)"
  dir="$(cluster_dir)"
  if as_owner "$bindir/pg_ctl" status --pgdata="$dir/data" >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait >/dev/null
    info "PostgreSQL stopped"
  else
    info "PostgreSQL is not running"
  fi
}

status() {
  if pg_isready -q -t 2; then info "PostgreSQL answers at $PGHOST:$PGPORT"; else die "PostgreSQL does not answer at $PGHOST:$PGPORT"; fi
}

case "${1:-}" in
  start|stop|status) "$1" ;;
  *) die "usage: $0 start|stop|status" ;;
esac
