-- The projects of the days that this run builds.
INSERT INTO pypi_dim_next.project (project_id, project_name)
SELECT DISTINCT project_id, project_name
FROM pypi_data_next.download_staging
WHERE project_id <> -1;
