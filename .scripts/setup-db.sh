#!/usr/bin/env bash
# Creates the role's databases (DWH_DB, MARA_DB) if missing, the extensions, and mara's tables.
# Safe to run again: it changes nothing that is already there. `setup-db.sh --warehouse`: only the warehouse database.
source "$(dirname "$0")/lib.sh"
databases=("$DWH_DB" "$MARA_DB")
[ "${1:-}" != --warehouse ] || databases=("$DWH_DB")

pg_isready -q -t 30 || die "PostgreSQL does not answer at $PGHOST:$PGPORT. Run 'make start-db' (local cluster)
  or check POSTGRES_HOST/POSTGRES_PORT."

for db in "${databases[@]}"; do
  psql --dbname=postgres --quiet --no-psqlrc -v ON_ERROR_STOP=1 -v db="$db" <<'SQL' || die "could not create database $db (does role $PGUSER have CREATEDB?)"
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
done
info "Databases ${databases[*]} exist"

psql --dbname="$DWH_DB" --quiet --no-psqlrc -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS hll' \
  || die "the hll extension is missing on the server: apt-get install postgresql-<major>-hll (make install-system-packages)"

# Citus, where the server loads it (`make citus`): columnar storage, and the worker nodes of the local
# coordinator. Each worker gets the warehouse database with the same extensions (Citus keeps its metadata per
# database), then the coordinator registers itself and the workers in it.
sql() { psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 -tA "$@"; }
citus_loaded="$(sql --dbname="$DWH_DB" -c "SELECT 'citus' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))")"
if [ "$citus_loaded" = t ]; then
  # Only the missing ones: once a worker holds the coordinator's metadata, it refuses even CREATE EXTENSION IF NOT EXISTS.
  extensions="SELECT format('CREATE EXTENSION %I', name) FROM unnest(ARRAY['hll', 'citus', 'citus_columnar']) AS name
WHERE NOT EXISTS (SELECT FROM pg_extension WHERE extname = name) \\gexec"
  workers="$(bash .scripts/postgres.sh workers)"
  for worker in $workers; do
    sql --host="${worker%:*}" --port="${worker##*:}" --dbname=postgres -v db="$DWH_DB" <<'SQL' || die "could not create database $DWH_DB on the Citus worker $worker (is it running? make start-db)"
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
    echo "$extensions" | sql --host="${worker%:*}" --port="${worker##*:}" --dbname="$DWH_DB" >/dev/null \
      || die "could not create the extensions in $DWH_DB on the Citus worker $worker"
  done
  echo "$extensions" | sql --dbname="$DWH_DB" >/dev/null || die "could not create the Citus extensions in $DWH_DB"
  if [ -n "$workers" ]; then
    sql --dbname="$DWH_DB" -v host="$PGHOST" -v port="$PGPORT" >/dev/null <<'SQL' || die "could not register the coordinator in $DWH_DB"
SELECT citus_set_coordinator_host(:'host', :'port')
SQL
    for worker in $workers; do
      sql --dbname="$DWH_DB" -v host="${worker%:*}" -v port="${worker##*:}" >/dev/null <<'SQL' || die "could not add the Citus worker $worker to $DWH_DB"
SELECT citus_add_node(:'host', :'port') WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodename = :'host' AND nodeport = :'port'::INTEGER)
SQL
    done
  fi
  info "Citus in $DWH_DB: columnar storage, $(echo $workers | wc -w) worker nodes"
else
  info "No Citus on this server: heap tables on one node (make citus adds columnar storage and worker nodes)"
fi

[ "${#databases[@]}" = 2 ] || exit 0
.venv/bin/flask --app app.app mara-db migrate >/tmp/mara-db-migrate.$$.log 2>&1 \
  || { cat /tmp/mara-db-migrate.$$.log >&2; rm -f /tmp/mara-db-migrate.$$.log; die "creating mara's tables in $MARA_DB failed"; }
rm -f /tmp/mara-db-migrate.$$.log
info "mara's tables exist in $MARA_DB"
