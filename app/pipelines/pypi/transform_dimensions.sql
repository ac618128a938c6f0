-- Fills the dimensions of pypi_dim_next from all days that time.day covers, beside the fact chunks
-- (which compute the same ids on their own).

-- The ETL runs as many tasks at once as there are cores: parallel workers per query would only
-- oversubscribe them.
SET max_parallel_workers_per_gather = 0;

-- The members of all dimensions from one scan of the raw data, one grouping set per dimension.
-- grouping_set has a bit for each of (project, installer, python_version) that the set leaves out:
-- 3 = (project, project_version), 5 = (installer), 6 = (python_version).
CREATE TEMPORARY TABLE member AS
SELECT GROUPING(project, installer, python_version) AS grouping_set,
       project, project_version, installer, python_version
FROM pypi_data.downloads
WHERE day_id BETWEEN @first_day_id@ AND @last_day_id@
GROUP BY GROUPING SETS ((project, project_version), (installer), (python_version));

INSERT INTO pypi_dim_next.project
SELECT -1, 'Unknown'
UNION ALL
SELECT DISTINCT hashtextextended(project, 0), project
FROM member
WHERE grouping_set = 3 AND project IS NOT NULL;

INSERT INTO pypi_dim_next.project_version
SELECT -1, -1, 'Unknown'
UNION ALL
SELECT hashtextextended(project || E'\t' || coalesce(project_version, ''), 0),
       hashtextextended(project, 0),
       coalesce(project_version, 'Unknown')
FROM member
WHERE grouping_set = 3 AND project IS NOT NULL;

INSERT INTO pypi_dim_next.installer
SELECT -1, 'Unknown'
UNION ALL
SELECT hashtext(installer), installer
FROM member
WHERE grouping_set = 5 AND installer IS NOT NULL;

INSERT INTO pypi_dim_next.python_version
SELECT -1, 'Unknown'
UNION ALL
SELECT hashtext(python_version), python_version
FROM member
WHERE grouping_set = 6 AND python_version IS NOT NULL;

ALTER TABLE pypi_dim_next.project ADD PRIMARY KEY (project_id);
ALTER TABLE pypi_dim_next.project_version ADD PRIMARY KEY (project_version_id);
ALTER TABLE pypi_dim_next.installer ADD PRIMARY KEY (installer_id);
ALTER TABLE pypi_dim_next.python_version ADD PRIMARY KEY (python_version_id);
SELECT util.add_fk('pypi_dim_next', 'project_version', 'project_fk', 'pypi_dim_next', 'project', 'project_id');
