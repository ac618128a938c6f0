"""Download of the PyPI and GitHub data sets from BigQuery into the per-day files of app/data_sets.py.

`flask bigquery-downloader download` (or the original name `flask bigquery_downloader.download_data`)
dry-runs every day it is about to download, refuses when that adds up to more than BIGQUERY_BUDGET_TIB,
and writes DATA_DIR/YYYY/MM/DD/pypi/downloads-v1.csv.gz and .../github/repo-activity-v2.csv.gz.
"""
