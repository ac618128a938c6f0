-- gh_dim_next: the next version of gh_dim, with gh_dim's tables and, as partitions, the days that this run
-- builds (github_data_next.planned_day). A full build fills it with every day and replaces gh_dim by it; an
-- incremental build moves its day partitions and new repositories into gh_dim (publish_gh_dim.sql).
--
-- Keys: a repository is identified by a 64-bit hash of 'user/repository', computed once in
-- github_data_next.repo_activity_staging. The repo dimension has about as many members as there are facts, so
-- looking ids up would cost a join of millions of rows; a hash comes from the fact row alone and stays the same
-- across runs. A hash collision fails the run, never gives wrong numbers. The foreign keys are declared when
-- publishing (publish_gh_dim.sql).

SELECT util.drop_next_schema('gh_dim_next');
CREATE SCHEMA gh_dim_next;

-- Grain: one GitHub repository (user and repository name). Filled by repo.sql, with the unknown member -1, and
-- then given its primary key: building the index at once is faster than inserting millions of random hashes.
CREATE TABLE gh_dim_next.repo (
  repo_id              BIGINT  NOT NULL,           -- hashtextextended('user/repository', 0); -1: unknown
  repo_name            TEXT    NOT NULL,           -- flask
  user_name            TEXT    NOT NULL,           -- pallets; 'Unknown' when the file gave none
  number_of_references INTEGER NOT NULL DEFAULT 0  -- days of repo_activity with the repository (util.counted_foreign_keys)
);

-- Grain: the activity of one repository on one day (one row of a GitHub file). Units: forks, commits, pull
-- requests and push events that day. NULL means no such activity that day (as in the files); commits are also
-- NULL where the events no longer tell them (docs/data-sources.md), and pushes are NULL in files of version 1,
-- which do not have them. The 8-byte key comes first: no alignment padding.
CREATE TABLE gh_dim_next.repo_activity (
  repo_fk                        BIGINT  NOT NULL,
  day_fk                         INTEGER NOT NULL,
  number_of_forks                INTEGER,
  number_of_commits              INTEGER,
  number_of_closed_pull_requests INTEGER,
  number_of_pushes               INTEGER
) PARTITION BY LIST (day_fk);

-- The flat data set: the facts with readable names, for analysts and BI tools. Its partitions get columnar
-- storage where the server has it.
CREATE TABLE gh_dim_next.repo_activity_data_set (
  "Date"                           DATE    NOT NULL,
  "User"                           TEXT    NOT NULL,
  "Repository"                     TEXT    NOT NULL,
  "Number of forks"                INTEGER,
  "Number of commits"              INTEGER,
  "Number of closed pull requests" INTEGER,
  "Number of pushes"               INTEGER
) PARTITION BY LIST ("Date");

-- With Citus worker nodes (util.distribute): the repositories on every node, the facts sharded by repository, the
-- flat data set by repository name.
SELECT util.distribute('gh_dim_next', table_name, distribution_column) AS distribution
FROM (VALUES ('repo', NULL), ('repo_activity', 'repo_fk'), ('repo_activity_data_set', 'Repository'))
  AS day_table (table_name, distribution_column);

-- The partitions of the days that this run builds.
SELECT util.create_day_partitions('gh_dim_next', table_name, days, storage) AS partitions
FROM (SELECT array_agg(day_id ORDER BY day_id) AS days FROM github_data_next.planned_day) AS planned,
     (VALUES ('repo_activity', 'heap'),
             ('repo_activity_data_set', util.data_set_storage('@columnar_storage@'))) AS day_table (table_name, storage);
