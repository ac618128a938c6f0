-- GitHub activity of one day (@day) per repository: forks, pushed commits, closed pull requests, pushes.
-- {yyyymmdd} is replaced with the day of @day (built from a datetime.date, never from free text).
-- The payloads changed on 2025-10-07; docs/data-sources.md says which fields exist when.
WITH events AS (
  SELECT
    SPLIT(repo.name, '/')[SAFE_OFFSET(0)] AS user_name,
    SPLIT(repo.name, '/')[SAFE_OFFSET(1)] AS repository_name,
    type,
    id,
    payload
  FROM `githubarchive.day.{yyyymmdd}`
  WHERE type IN ('ForkEvent', 'PushEvent', 'PullRequestEvent')
),

per_event AS (
  SELECT
    user_name,
    repository_name,
    type,
    -- The commits of one push, from whichever field its payload has; NULL when it has none of them.
    -- (The commits array holds at most 20 entries, so it is the last resort.)
    IF(type = 'PushEvent',
       COALESCE(SAFE_CAST(JSON_VALUE(payload, '$.distinct_size') AS INT64),
                SAFE_CAST(JSON_VALUE(payload, '$.size') AS INT64),
                ARRAY_LENGTH(JSON_QUERY_ARRAY(payload, '$.commits'))),
       NULL) AS pushed_commits,
    -- A closed pull request: before 2025-10-07 a merge is action 'closed' (with merged: true),
    -- since then it is action 'merged'. The number identifies it, so that it counts once.
    IF(type = 'PullRequestEvent' AND JSON_VALUE(payload, '$.action') IN ('closed', 'merged'),
       COALESCE(JSON_VALUE(payload, '$.number'), JSON_VALUE(payload, '$.pull_request.number'), id),
       NULL) AS closed_pull_request
  FROM events
),

activity AS (
  SELECT
    user_name,
    repository_name,
    -- NULLIF: no such event on that day is NULL (an empty field), not 0
    NULLIF(COUNTIF(type = 'ForkEvent'), 0) AS number_of_forks,
    -- not known (NULL) as soon as one push of the day does not say how many commits it had
    IF(COUNTIF(type = 'PushEvent' AND pushed_commits IS NULL) > 0, NULL, SUM(pushed_commits))
      AS number_of_commits,
    NULLIF(COUNT(DISTINCT closed_pull_request), 0) AS number_of_closed_pull_requests,
    NULLIF(COUNTIF(type = 'PushEvent'), 0) AS number_of_pushes
  FROM per_event
  GROUP BY user_name, repository_name
)

SELECT
  CAST(FORMAT_DATE('%Y%m%d', @day) AS INT64) AS day_id,
  user_name AS `user`,
  repository_name AS repository,
  number_of_forks,
  number_of_commits,
  number_of_closed_pull_requests,
  number_of_pushes
FROM activity
-- repositories with only other events (e.g. an opened pull request) have no activity to report
WHERE COALESCE(number_of_forks, number_of_commits, number_of_closed_pull_requests, number_of_pushes) IS NOT NULL
-- a fixed order: the same answer gives the same file, byte for byte
ORDER BY `user`, repository
