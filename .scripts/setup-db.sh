#!/usr/bin/env bash
# Creates the role's databases (DWH_DB, MARA_DB) if missing, the extensions, and mara's tables.
# Safe to run again: it changes nothing that is already there.
source "$(dirname "$0")/lib.sh"

pg_isready -q -t 30 || die "PostgreSQL does not answer at $PGHOST:$PGPORT. Run 'make start-db' (local cluster)
  or check POSTGRES_HOST/POSTGRES_PORT."

for db in "$DWH_DB" "$MARA_DB"; do
  psql --dbname=postgres --quiet --no-psqlrc -v ON_ERROR_STOP=1 -v db="$db" <<'SQL' || die "could not create database $db (does role $PGUSER have CREATEDB?)"
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
SQL
done
info "Databases $DWH_DB and $MARA_DB exist"

psql --dbname="$DWH_DB" --quiet --no-psqlrc -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS hll' \
  || die "the hll extension is missing on the server: apt-get install postgresql-<major>-hll (make install-system-packages)"

# Columnar storage is optional: Citus 11.1+ ships it as citus_columnar, older Citus inside citus.
columnar="$(psql --dbname="$DWH_DB" --no-psqlrc -tAc \
  "SELECT name FROM pg_available_extensions WHERE name IN ('citus_columnar', 'citus') ORDER BY name DESC LIMIT 1")"
if [ -n "$columnar" ]; then
  psql --dbname="$DWH_DB" --quiet --no-psqlrc -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS $columnar" \
    && info "Columnar storage available ($columnar)"
else
  info "No columnar storage on this server (Citus not installed): flat data sets will be heap tables"
fi

.venv/bin/flask --app app.app mara-db migrate >/tmp/mara-db-migrate.$$.log 2>&1 \
  || { cat /tmp/mara-db-migrate.$$.log >&2; rm -f /tmp/mara-db-migrate.$$.log; die "creating mara's tables in $MARA_DB failed"; }
rm -f /tmp/mara-db-migrate.$$.log
info "mara's tables exist in $MARA_DB"
