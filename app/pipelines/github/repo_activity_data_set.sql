-- The flat data set of the days @days@.
INSERT INTO gh_dim_next.repo_activity_data_set
SELECT activity_date, user_name, repo_name, number_of_forks, number_of_commits, number_of_closed_pull_requests,
       number_of_pushes
FROM github_data_next.repo_activity_staging
WHERE day_id IN (@days@);
