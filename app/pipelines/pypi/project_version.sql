-- The project versions of the days that this run builds.
-- Rows go into a Citus reference table where the warehouse has worker nodes (see the function).
SELECT util.fill_reference_tables_serially() AS parallel_query;

-- A staging row is a row of download_counts (download_counts.sql): their number is the reference count.
INSERT INTO pypi_dim_next.project_version (project_version_id, project_fk, project_version_name, number_of_references)
SELECT project_version_id, project_id, project_version_name, count(*)
FROM pypi_data_next.download_staging
WHERE project_version_id <> -1
GROUP BY project_version_id, project_id, project_version_name;
