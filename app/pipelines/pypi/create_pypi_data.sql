-- pypi_data.downloads: the PyPI download files as they are, one partition per day.
-- The reader creates a partition per day and loads each day's file into it; the partitions are kept
-- across runs, so that only new files need to be read and pypi_dim can be rebuilt from all days.
-- Grain: one row per day, project, project version, Python version and installer.

CREATE SCHEMA IF NOT EXISTS pypi_data;

CREATE TABLE IF NOT EXISTS pypi_data.downloads (
  day_id              INTEGER NOT NULL, -- 20180410, must be the day of the file's folder
  project             TEXT,             -- flask
  project_version     TEXT,             -- 0.12.2
  python_version      TEXT,             -- 3.6; NULL when the installer does not report it
  installer           TEXT,             -- pip; NULL when unknown
  number_of_downloads INTEGER           -- downloads of that combination on that day
) PARTITION BY LIST (day_id);
