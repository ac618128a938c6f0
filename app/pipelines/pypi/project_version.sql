-- The project versions of the days that this run builds.
-- Rows go into a Citus reference table where the warehouse has worker nodes (see the function).
SELECT util.fill_reference_tables_serially() AS parallel_query;

INSERT INTO pypi_dim_next.project_version (project_version_id, project_fk, project_version_name)
SELECT DISTINCT project_version_id, project_id, project_version_name
FROM pypi_data_next.download_staging
WHERE project_version_id <> -1;
