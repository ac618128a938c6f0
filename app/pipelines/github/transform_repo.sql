-- Builds gh_dim_next.repo with every repository of the days that time.day covers. Runs beside the
-- fact chunks, which compute the same ids on their own.
--
-- Keys: a repository is identified by a 64-bit hash of 'user/repository'. The repo dimension has about
-- as many members as there are facts, so looking ids up would cost a join of two tables of millions
-- of rows; a hash is computed from the fact row alone, and stays the same across rebuilds. A hash
-- collision would fail the primary key, never give wrong numbers.
--
-- One transaction: a table created and filled in it is written without WAL (wal_level = minimal).

BEGIN;

-- The ETL runs as many tasks at once as there are cores: parallel workers per query would only
-- oversubscribe them.
SET max_parallel_workers_per_gather = 0;

-- Grain: one GitHub repository (user and repository name).
CREATE TABLE gh_dim_next.repo (
  repo_id   BIGINT NOT NULL, -- hashtextextended('user/repository', 0); -1: unknown
  repo_name TEXT   NOT NULL, -- flask
  user_name TEXT   NOT NULL  -- pallets; 'Unknown' when the file gave none
);

-- Nearly every file row is a repository of its own, so this is a distinct over millions of rows:
-- sorting them by the 64-bit id (names only break ties) is faster than hashing the names, and leaves
-- the table in key order for the primary key. Two repositories with the same id (a hash collision)
-- would both be kept and fail the primary key.
INSERT INTO gh_dim_next.repo
SELECT -1, 'Unknown', 'Unknown'
UNION ALL
(SELECT DISTINCT ON (repo_id, repo_name, user_name) repo_id, repo_name, user_name
 FROM (SELECT hashtextextended(coalesce(user_name, '') || '/' || repository, 0) AS repo_id,
              repository AS repo_name,
              coalesce(user_name, 'Unknown') AS user_name
       FROM github_data.repo_activity
       WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
         AND repository IS NOT NULL) AS repository
 ORDER BY repo_id, repo_name, user_name);

ALTER TABLE gh_dim_next.repo ADD PRIMARY KEY (repo_id);

COMMIT;
