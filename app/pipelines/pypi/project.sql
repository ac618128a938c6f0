-- The projects of the days that this run builds.
-- Rows go into a Citus reference table where the warehouse has worker nodes (see the function).
SELECT util.fill_reference_tables_serially() AS parallel_query;

INSERT INTO pypi_dim_next.project (project_id, project_name)
SELECT DISTINCT project_id, project_name
FROM pypi_data_next.download_staging
WHERE project_id <> -1;
