-- The facts of the days @days@: one per file row.
INSERT INTO gh_dim_next.repo_activity
SELECT repo_id, day_id, number_of_forks, number_of_commits, number_of_closed_pull_requests, number_of_pushes
FROM github_data_next.repo_activity_staging
WHERE day_id IN (@days@);
