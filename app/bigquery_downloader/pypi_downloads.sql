-- PyPI downloads of one day (@day), per project version, Python major.minor and installer.
-- Filtering on `timestamp` restricts the scan to that day's partition. The table is clustered by its
-- column `project`, so an allow-list (@projects, empty: all projects) reads only those projects' blocks.
-- BigQuery bills every column read: the project name is read once, from `project` (the clustering column,
-- PEP 503-normalized), not also from `file.project`, which holds the same name.
SELECT
  CAST(FORMAT_DATE('%Y%m%d', @day) AS INT64) AS day_id,
  downloads.project AS project,
  file.version AS project_version,
  REGEXP_EXTRACT(details.python, r'^\d+\.\d+') AS python_version,
  details.installer.name AS installer,
  COUNT(*) AS number_of_downloads
FROM `bigquery-public-data.pypi.file_downloads` AS downloads
WHERE downloads.timestamp >= TIMESTAMP(@day)
  AND downloads.timestamp < TIMESTAMP(DATE_ADD(@day, INTERVAL 1 DAY))
  -- mirrors and caching proxies fetch files for many users at once: not downloads by users
  -- (the list is MIRROR_INSTALLERS in data_sets.py); a download without an installer name is kept
  AND (details.installer.name IS NULL OR details.installer.name NOT IN UNNEST(@mirror_installers))
  AND (ARRAY_LENGTH(@projects) = 0 OR downloads.project IN UNNEST(@projects))
-- ordinals: the aliases `project` and `installer` would be ambiguous with columns and fields of the table
GROUP BY 1, 2, 3, 4, 5
-- a fixed order: the same answer gives the same file, byte for byte
ORDER BY 2, 3, 4, 5
