#!/usr/bin/env bash
# The project-local PostgreSQL cluster: `postgres.sh start|stop|status|citus|workers`.
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

# Creates a cluster in $1/data listening on 127.0.0.1:$2 when there is none; $3 is appended to its settings.
init_cluster() {
  local bindir="$1" dir="$2" port="$3" more="${4:-}"
  [ ! -f "$dir/data/PG_VERSION" ] || return 0
  info "Creating a PostgreSQL cluster in $dir/data (superuser '$POSTGRES_USER', trusting local connections)"
  as_owner mkdir -p "$dir"
  as_owner "$bindir/initdb" --pgdata="$dir/data" --username="$POSTGRES_USER" --auth=trust \
    --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  as_owner mkdir -p "$dir/run"
  as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF

# Project-local cluster (written by .scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/run'
include_if_exists = '$PROJECT_ROOT/docs/postgresql.conf'
$more
CONF
}

# Starts the cluster in $2/data on port $3, unless it runs already.
start_cluster() {
  local bindir="$1" dir="$2" port="$3"
  if as_owner "$bindir/pg_ctl" status --pgdata="$dir/data" >/dev/null 2>&1; then
    info "PostgreSQL is already running ($dir/data)"
    return
  fi
  if pg_isready -q -h 127.0.0.1 -p "$port" -t 2 || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is taken by another program. Stop it, set POSTGRES_PORT to a free port,
  or set POSTGRES_HOST (with POSTGRES_USER and POSTGRES_PASSWORD) to use the server that listens there."
  fi
  info "Starting PostgreSQL on 127.0.0.1:$port ($dir/data)"
  as_owner "$bindir/pg_ctl" start --pgdata="$dir/data" --log="$dir/postgresql.log" --wait --timeout=60 \
    -o "-p $port" >/dev/null || { tail -n 20 "$dir/postgresql.log" >&2; die "PostgreSQL did not start (log: $dir/postgresql.log)"; }
}

stop_cluster() {
  local bindir="$1" dir="$2"
  if as_owner "$bindir/pg_ctl" status --pgdata="$dir/data" >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" stop --pgdata="$dir/data" --mode=fast --wait >/dev/null
    info "PostgreSQL stopped ($dir/data)"
  else
    info "PostgreSQL is not running ($dir/data)"
  fi
}

# The Citus worker clusters beside the local coordinator (`make citus CITUS_WORKERS=N`): one "<folder> <port>"
# line each, in $dir/citus-workers.
worker_clusters() {
  local list="$1/citus-workers"
  [ ! -f "$list" ] || cat "$list"
}

start() {
  if [ -n "$POSTGRES_HOST" ]; then
    pg_isready -q -t 10 || die "the PostgreSQL server at $POSTGRES_HOST:$POSTGRES_PORT (POSTGRES_HOST) does not answer"
    info "Using the existing PostgreSQL server at $POSTGRES_HOST:$POSTGRES_PORT"
    return
  fi
  local bindir dir worker port
  bindir="$(pg_bindir)"
  dir="$(cluster_dir)"
  init_cluster "$bindir" "$dir" "$POSTGRES_PORT"
  # The workers first: the coordinator's queries need them.
  while read -r worker port; do
    start_cluster "$bindir" "$dir/$worker" "$port"
  done < <(worker_clusters "$dir")
  start_cluster "$bindir" "$dir" "$POSTGRES_PORT"
}

# Citus's settings of a cluster (the library is loaded at start). Few shards: the worker clusters of one machine
# share its cores, and every shard of every day partition is a table of its own.
CITUS_SETTINGS="# Citus (written by .scripts/postgres.sh citus)
shared_preload_libraries = 'citus'
citus.shard_count = 8"
# A worker cluster shares the machine with the coordinator and the other workers.
WORKER_SETTINGS="shared_buffers = 1GB
maintenance_work_mem = 512MB"

# Makes the local cluster a Citus coordinator (restarting it if it runs without Citus), with CITUS_WORKERS
# worker clusters of its own on the ports after POSTGRES_PORT; `make citus` runs it after install-citus.sh.
citus() {
  [ -z "$POSTGRES_HOST" ] || die "POSTGRES_HOST is set: install Citus on that server yourself (README, 'Scaling out')"
  local bindir dir conf worker port number
  bindir="$(pg_bindir)"
  [ -f "$("$bindir/pg_config" --pkglibdir)/citus.so" ] || die "Citus is not installed: run 'make citus'"
  dir="$(cluster_dir)"
  init_cluster "$bindir" "$dir" "$POSTGRES_PORT"
  conf="$dir/data/postgresql.conf"
  if ! as_owner grep -q "^shared_preload_libraries = 'citus'" "$conf"; then
    info "Loading Citus in $dir/data"
    printf '\n%s\n' "$CITUS_SETTINGS" | as_owner tee -a "$conf" >/dev/null
    stop_cluster "$bindir" "$dir"
  fi
  for number in $(seq 1 "$CITUS_WORKERS"); do
    worker="worker-$number" port=$((POSTGRES_PORT + number))
    init_cluster "$bindir" "$dir/$worker" "$port" "$CITUS_SETTINGS
$WORKER_SETTINGS"
    as_owner grep -q "^$worker " "$dir/citus-workers" 2>/dev/null || echo "$worker $port" | as_owner tee -a "$dir/citus-workers" >/dev/null
  done
  start
  info "Citus: a coordinator on port $POSTGRES_PORT and $(worker_clusters "$dir" | wc -l) worker clusters (run 'make setup-db')"
}

# The worker nodes of the local coordinator, as host:port lines (for setup-db.sh and the tests).
workers() {
  [ -z "$POSTGRES_HOST" ] || return 0
  local worker port
  while read -r worker port; do echo "127.0.0.1:$port"; done < <(worker_clusters "$(cluster_dir)")
}

stop() {
  [ -z "$POSTGRES_HOST" ] || { info "POSTGRES_HOST is set: not stopping an external server"; return; }
  local bindir dir worker port
  bindir="$(pg_bindir)"
  dir="$(cluster_dir)"
  stop_cluster "$bindir" "$dir"
  while read -r worker port; do
    stop_cluster "$bindir" "$dir/$worker"
  done < <(worker_clusters "$dir")
}

status() {
  if pg_isready -q -t 2; then info "PostgreSQL answers at $PGHOST:$PGPORT"; else die "PostgreSQL does not answer at $PGHOST:$PGPORT"; fi
}

case "${1:-}" in
  start|stop|status|citus|workers) "$1" ;;
  *) die "usage: $0 start|stop|status|citus|workers" ;;
esac
