-- GitHub activity of one day (@day) per repository: forks, pushed commits, closed pull requests.
-- {yyyymmdd} is replaced with the day of @day (built from a datetime.date, never from free text).
WITH events AS (
  SELECT
    SPLIT(repo.name, '/')[SAFE_OFFSET(0)] AS user_name,
    SPLIT(repo.name, '/')[SAFE_OFFSET(1)] AS repository_name,
    type,
    payload
  FROM `githubarchive.day.{yyyymmdd}`
  WHERE type IN ('ForkEvent', 'PushEvent', 'PullRequestEvent')
),

activity AS (
  SELECT
    user_name,
    repository_name,
    -- NULLIF: no such event on that day is NULL (an empty CSV field), not 0
    NULLIF(COUNTIF(type = 'ForkEvent'), 0) AS number_of_forks,
    NULLIF(SUM(IF(type = 'PushEvent',
                  SAFE_CAST(JSON_EXTRACT_SCALAR(payload, '$.distinct_size') AS INT64), 0)), 0)
      AS number_of_commits,
    NULLIF(COUNTIF(type = 'PullRequestEvent'
                   AND JSON_EXTRACT_SCALAR(payload, '$.action') = 'closed'), 0)
      AS number_of_closed_pull_requests
  FROM events
  GROUP BY user_name, repository_name
)

SELECT
  CAST(FORMAT_DATE('%Y%m%d', @day) AS INT64) AS day_id,
  user_name AS `user`,
  repository_name AS repository,
  number_of_forks,
  number_of_commits,
  number_of_closed_pull_requests
FROM activity
-- repositories with only other events (e.g. an opened pull request) have no activity to report
WHERE COALESCE(number_of_forks, number_of_commits, number_of_closed_pull_requests) IS NOT NULL
