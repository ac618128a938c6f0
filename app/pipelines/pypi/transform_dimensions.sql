-- Fills the dimensions of pypi_dim_next from the members that the chunks of
-- transform_download_counts.sql collected (the fact chunks computed the same ids on their own).

-- The ETL runs as many tasks at once as there are cores: parallel workers per query would only
-- oversubscribe them.
SET max_parallel_workers_per_gather = 0;

INSERT INTO pypi_dim_next.project
SELECT -1, 'Unknown'
UNION ALL
SELECT hashtextextended(project, 0), project
FROM pypi_dim_next.member_staging
WHERE grouping_set = 3 AND project IS NOT NULL
GROUP BY project;

INSERT INTO pypi_dim_next.project_version
SELECT -1, -1, 'Unknown'
UNION ALL
SELECT hashtextextended(project || E'\t' || coalesce(project_version, ''), 0),
       hashtextextended(project, 0),
       coalesce(project_version, 'Unknown')
FROM pypi_dim_next.member_staging
WHERE grouping_set = 3 AND project IS NOT NULL
GROUP BY project, project_version;

INSERT INTO pypi_dim_next.installer
SELECT -1, 'Unknown'
UNION ALL
SELECT hashtext(installer), installer
FROM pypi_dim_next.member_staging
WHERE grouping_set = 5 AND installer IS NOT NULL
GROUP BY installer;

INSERT INTO pypi_dim_next.python_version
SELECT -1, 'Unknown'
UNION ALL
SELECT hashtext(python_version), python_version
FROM pypi_dim_next.member_staging
WHERE grouping_set = 6 AND python_version IS NOT NULL
GROUP BY python_version;

ALTER TABLE pypi_dim_next.project ADD PRIMARY KEY (project_id);
ALTER TABLE pypi_dim_next.project_version ADD PRIMARY KEY (project_version_id);
ALTER TABLE pypi_dim_next.installer ADD PRIMARY KEY (installer_id);
ALTER TABLE pypi_dim_next.python_version ADD PRIMARY KEY (python_version_id);
SELECT util.add_fk('pypi_dim_next', 'project_version', 'project_fk', 'pypi_dim_next', 'project', 'project_id');
