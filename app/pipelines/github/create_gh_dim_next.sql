-- Starts gh_dim_next, the next version of gh_dim, with empty tables; transform_repo.sql and the chunks
-- of transform_repo_activity.sql fill them in parallel.
--
-- Keys: a repository is identified by a 64-bit hash of 'user/repository'. The repo dimension has about
-- as many members as there are facts, so looking ids up would cost a join of two tables of millions
-- of rows; a hash is computed from the fact row alone, and stays the same across rebuilds. A hash
-- collision would fail the primary key, never give wrong numbers.

DROP SCHEMA IF EXISTS gh_dim_next CASCADE;
CREATE SCHEMA gh_dim_next;

-- Grain: one GitHub repository (user and repository name).
CREATE TABLE gh_dim_next.repo (
  repo_id   BIGINT NOT NULL, -- hashtextextended('user/repository', 0); -1: unknown
  repo_name TEXT   NOT NULL, -- flask
  user_name TEXT   NOT NULL  -- pallets; 'Unknown' when the file gave none
);

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

-- The flat data set: the facts with readable names, for analysts and BI tools.
SELECT util.create_data_set_table(
  'gh_dim_next', 'repo_activity_data_set',
  '"Date" DATE NOT NULL, "User" TEXT NOT NULL, "Repository" TEXT NOT NULL, "Number of forks" INTEGER,
   "Number of commits" INTEGER, "Number of closed pull requests" INTEGER',
  '@columnar_storage@') AS storage;
