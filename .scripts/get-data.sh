#!/usr/bin/env bash
# Downloads from BigQuery when credentials are configured; otherwise generates the offline sample.
source "$(dirname "$0")/lib.sh"
credentials="$(PYTHONPATH=. .venv/bin/python -c 'from app import config; print(config.bigquery_credentials_file())')"
if [ -f "$credentials" ]; then
  info "BigQuery credentials found: downloading new days"
  exec .venv/bin/flask --app app.app bigquery_downloader.download_data
else
  info "No BigQuery credentials ($credentials): generating sample data instead (see README, 'Getting the data')"
  exec .venv/bin/flask --app app.app sample-data generate
fi
