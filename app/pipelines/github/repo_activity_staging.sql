-- The staging layer of the GitHub files: every loaded row with its repository key, its date and 'Unknown' for
-- missing names, computed here and nowhere else. A view: the planner folds it into each query.

CREATE VIEW github_data_next.repo_activity_staging AS
SELECT day_id,
       -- day_id is YYYYMMDD: taking the number apart costs an eighth of parsing its text (to_date)
       make_date(day_id / 10000, day_id / 100 % 100, day_id % 100) AS activity_date,
       CASE WHEN repository IS NULL THEN -1
            ELSE hashtextextended(coalesce("user", '') || '/' || repository, 0) END AS repo_id,
       coalesce(repository, 'Unknown')         AS repo_name,
       coalesce("user", 'Unknown')             AS user_name,
       number_of_forks,
       number_of_commits,
       number_of_closed_pull_requests,
       number_of_pushes
FROM github_data_next.repo_activity;
