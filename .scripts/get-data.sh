#!/usr/bin/env bash
# Downloads from BigQuery when credentials are configured. Otherwise it generates the offline sample, but only
# into an empty DATA_DIR: files that are there (real ones, or your own) are never mixed with generated days.
source "$(dirname "$0")/lib.sh"
mapfile -t settings < <(PYTHONPATH=. .venv/bin/python -c \
  'from app import config; print(config.bigquery_credentials_file()); print(config.data_dir())')
credentials="${settings[0]}" data_dir="${settings[1]}"
if [ -f "$credentials" ]; then
  info "BigQuery credentials found: downloading new days"
  exec .venv/bin/flask --app app.app bigquery_downloader.download_data
fi
existing="$(find "$data_dir" -name '*.csv.gz' -not -name '.*' 2>/dev/null | wc -l)"
if [ "$existing" -gt 0 ]; then
  info "No BigQuery credentials; DATA_DIR ($data_dir) holds $existing files: using them, no sample data generated"
  exit 0
fi
info "No BigQuery credentials ($credentials) and an empty DATA_DIR: generating sample data (see README, 'Getting the data')"
exec .venv/bin/flask --app app.app sample-data generate
