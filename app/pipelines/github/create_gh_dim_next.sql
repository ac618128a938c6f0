-- Starts gh_dim_next, the next version of gh_dim: transform_repo.sql builds the repository dimension,
-- and the chunks of transform_repo_activity.sql fill the facts and the flat data set, in parallel.
--
-- The flat data set is partitioned by chunk of days: each chunk creates and fills its own partition in
-- one transaction, which PostgreSQL writes without WAL (wal_level = minimal), and publish_gh_dim.sql
-- attaches them. (Not so the facts: the utils pipeline declares the foreign keys to time.day again
-- after rebuilding it, and cannot do that for a partitioned table yet.)

DROP SCHEMA IF EXISTS gh_dim_next CASCADE;
CREATE SCHEMA gh_dim_next;

-- Grain: the activity of one repository on one day (one row of a GitHub file).
-- A NULL metric means no such activity that day (as in the files). The 8-byte key comes first: no
-- alignment padding.
CREATE TABLE gh_dim_next.repo_activity (
  repo_fk                        BIGINT  NOT NULL,
  day_fk                         INTEGER NOT NULL,
  number_of_forks                INTEGER,
  number_of_commits              INTEGER,
  number_of_closed_pull_requests INTEGER
);

-- The flat data set: the facts with readable names, for analysts and BI tools. Its partitions get
-- columnar storage where the server has it (see transform_repo_activity.sql).
CREATE TABLE gh_dim_next.repo_activity_data_set (
  "Date"                           DATE    NOT NULL,
  "User"                           TEXT    NOT NULL,
  "Repository"                     TEXT    NOT NULL,
  "Number of forks"                INTEGER,
  "Number of commits"              INTEGER,
  "Number of closed pull requests" INTEGER
) PARTITION BY LIST ((util.get_chunk("Date", @number_of_chunks@)));
