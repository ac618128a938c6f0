#!/usr/bin/env bash
# A psql shell in the data warehouse database, with the project's connection settings.
source "$(dirname "$0")/lib.sh"
exec psql --dbname="$DWH_DB" "$@"
