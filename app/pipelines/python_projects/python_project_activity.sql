-- The activity of the Python projects on the days @days@, from the published pypi_dim and gh_dim: the daily
-- downloads of each project, and the activity of the repositories named like it (read from gh_dim's flat data
-- set, which has the repository names, so that only the rows named like a project are aggregated).

WITH repository_activity AS (
  SELECT "Date" AS activity_date, "Repository" AS repository,
         sum("Number of forks")                AS number_of_forks,
         sum("Number of commits")              AS number_of_commits,
         sum("Number of closed pull requests") AS number_of_closed_pull_requests,
         sum("Number of pushes")               AS number_of_pushes
  FROM gh_dim.repo_activity_data_set
  WHERE "Date" IN (@dates@)
    AND "Repository" IN (SELECT project_name FROM pypi_dim.project WHERE project_id <> -1)
  GROUP BY "Date", "Repository")
INSERT INTO pp_dim_next.python_project_activity
SELECT downloads.day_fk, downloads.project_fk, downloads.number_of_downloads,
       repository_activity.number_of_forks, repository_activity.number_of_commits,
       repository_activity.number_of_closed_pull_requests, repository_activity.number_of_pushes
FROM pypi_dim.daily_project_downloads AS downloads
  JOIN pypi_dim.project ON project_id = downloads.project_fk
  LEFT JOIN repository_activity
    ON activity_date = to_date(downloads.day_fk::TEXT, 'YYYYMMDD') AND repository = project_name AND project_id <> -1
WHERE downloads.day_fk IN (@days@);
