-- PyPI downloads of one day (@day), per project version, Python major.minor and installer.
-- Filtering on `timestamp` restricts the scan to that day's partition.
SELECT
  CAST(FORMAT_DATE('%Y%m%d', @day) AS INT64) AS day_id,
  file.project AS project,
  file.version AS project_version,
  REGEXP_EXTRACT(details.python, r'^\d+\.\d+') AS python_version,
  details.installer.name AS installer,
  COUNT(*) AS number_of_downloads
FROM `bigquery-public-data.pypi.file_downloads`
WHERE timestamp >= TIMESTAMP(@day)
  AND timestamp < TIMESTAMP(DATE_ADD(@day, INTERVAL 1 DAY))
  -- mirrors syncing every file are not downloads by users
  AND (details.installer.name IS NULL OR details.installer.name != 'bandersnatch')
-- ordinals: the table also has a top-level column `project`, so aliases would be ambiguous
GROUP BY 1, 2, 3, 4, 5
