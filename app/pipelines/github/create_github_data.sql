-- github_data.repo_activity: the GitHub activity files as they are, one partition per day.
-- The reader creates a partition per day and loads each day's file into it; the partitions are kept
-- across runs, so that only new files need to be read and gh_dim can be rebuilt from all days.
-- Grain: one row per day and repository (user and repository name).

CREATE SCHEMA IF NOT EXISTS github_data;

CREATE TABLE IF NOT EXISTS github_data.repo_activity (
  day_id                         INTEGER NOT NULL, -- 20180410, must be the day of the file's folder
  user_name                      TEXT,             -- pallets (the file's column `user`)
  repository                     TEXT,             -- flask
  number_of_forks                INTEGER,          -- NULL: none that day
  number_of_commits              INTEGER,          -- NULL: none that day
  number_of_closed_pull_requests INTEGER           -- NULL: none that day
) PARTITION BY LIST (day_id);
