-- The repositories of the days that this run builds.
INSERT INTO gh_dim_next.repo (repo_id, repo_name, user_name)
SELECT DISTINCT repo_id, repo_name, user_name
FROM github_data_next.repo_activity_staging
WHERE repo_id <> -1;
