"""Incremental download of the PyPI and GitHub data sets from BigQuery into per-day CSV files.

`flask bigquery-downloader download` (or the original name `flask bigquery_downloader.download_data`)
writes DATA_DIR/YYYY/MM/DD/pypi/downloads-v1.csv.gz and .../github/repo-activity-v1.csv.gz.
"""
