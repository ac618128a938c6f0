-- pp_dim: PyPI downloads and GitHub activity of Python projects per day, matched by name: the
-- GitHub numbers of a project are the sums over all repositories named like the project, whoever
-- owns them (pallets/flask and its forks for flask). Built from the published pypi_dim and the GitHub
-- rows into pp_dim_next, then published as pp_dim.

-- The ETL runs as many tasks at once as there are cores: parallel workers per query would only
-- oversubscribe them.
SET max_parallel_workers_per_gather = 0;

DROP SCHEMA IF EXISTS pp_dim_next CASCADE;
CREATE SCHEMA pp_dim_next;

-- Grain: one project on one day that has downloads.
CREATE TABLE pp_dim_next.python_project_activity (
  day_fk                         INTEGER NOT NULL,
  project_fk                     BIGINT  NOT NULL,
  number_of_downloads            BIGINT,  -- all downloads of the project that day
  number_of_forks                BIGINT,  -- sums over the repositories named like the project;
  number_of_commits              BIGINT,  -- NULL when there is no such repository with that
  number_of_closed_pull_requests BIGINT   -- activity that day
);

WITH repository_activity AS (
  -- The activity of the repositories named like a project, summed per name and day. Read from the raw
  -- rows in github_data, which gh_dim.repo_activity holds one to one (see transform_repo_activity.sql
  -- of the github pipeline): they carry the repository name, so only the few rows named like a project
  -- are aggregated, without a join of the millions of rows of gh_dim.repo_activity and gh_dim.repo.
  SELECT day_id, repository,
         sum(number_of_forks) AS number_of_forks,
         sum(number_of_commits) AS number_of_commits,
         sum(number_of_closed_pull_requests) AS number_of_closed_pull_requests
  FROM github_data.repo_activity
  WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
    AND repository IN (SELECT project_name FROM pypi_dim.project WHERE project_id <> -1)
  GROUP BY day_id, repository)
INSERT INTO pp_dim_next.python_project_activity
SELECT downloads.day_fk,
       downloads.project_fk,
       downloads.number_of_downloads,
       repository_activity.number_of_forks,
       repository_activity.number_of_commits,
       repository_activity.number_of_closed_pull_requests
FROM pypi_dim.daily_project_downloads AS downloads
  JOIN pypi_dim.project ON project_id = downloads.project_fk
  LEFT JOIN repository_activity
    ON day_id = downloads.day_fk AND repository = project_name AND project_id <> -1;

ALTER TABLE pp_dim_next.python_project_activity ADD PRIMARY KEY (day_fk, project_fk);

-- Cross-schema keys: dropped whenever utils or pypi replace the schema they point to, and declared
-- again here, since this pipeline runs after them.
SELECT util.add_fk('pp_dim_next', 'python_project_activity', 'day_fk', 'time', 'day', 'day_id');
SELECT util.add_fk('pp_dim_next', 'python_project_activity', 'project_fk', 'pypi_dim', 'project', 'project_id');

-- The flat data set, with readable names.
SELECT util.create_data_set_table(
  'pp_dim_next', 'python_project_activity_data_set',
  '"Date" DATE NOT NULL, "Project" TEXT NOT NULL, "Number of downloads" BIGINT, "Number of forks" BIGINT,
   "Number of commits" BIGINT, "Number of closed pull requests" BIGINT',
  '@columnar_storage@') AS storage;

INSERT INTO pp_dim_next.python_project_activity_data_set
SELECT _date, project_name, number_of_downloads, number_of_forks, number_of_commits, number_of_closed_pull_requests
FROM pp_dim_next.python_project_activity
  JOIN pypi_dim.project ON project_id = project_fk
  JOIN time.day ON day_id = day_fk;

SELECT util.replace_schema('pp_dim', 'pp_dim_next');
