-- Declares the foreign keys of the filled pypi_dim_next (after loading: checking them once is
-- cheaper than row by row) and publishes it as pypi_dim: util.replace_schema swaps the schemas in one
-- transaction.
--
-- Publishing drops the old pypi_dim with CASCADE, which also drops the foreign keys that point into it
-- from other schemas (pp_dim.python_project_activity.project_fk). The python_projects pipeline, which
-- runs after this one, declares them again; the project ids that pp_dim holds stay valid meanwhile,
-- since they are hashes of the project names.

SELECT util.attach_chunk_tables('pypi_dim_next', 'download_counts_data_set', @number_of_chunks@);

SELECT util.add_fk('pypi_dim_next', 'download_counts', 'day_fk', 'time', 'day', 'day_id');
SELECT util.add_fk('pypi_dim_next', 'download_counts', 'project_version_fk',
                   'pypi_dim_next', 'project_version', 'project_version_id');
SELECT util.add_fk('pypi_dim_next', 'download_counts', 'installer_fk', 'pypi_dim_next', 'installer', 'installer_id');
SELECT util.add_fk('pypi_dim_next', 'download_counts', 'python_version_fk',
                   'pypi_dim_next', 'python_version', 'python_version_id');

ALTER TABLE pypi_dim_next.daily_project_downloads ADD PRIMARY KEY (project_fk, day_fk);
SELECT util.add_fk('pypi_dim_next', 'daily_project_downloads', 'day_fk', 'time', 'day', 'day_id');
SELECT util.add_fk('pypi_dim_next', 'daily_project_downloads', 'project_fk', 'pypi_dim_next', 'project', 'project_id');

-- Only needed while building.
DROP TABLE pypi_dim_next.member_staging;

SELECT util.replace_schema('pypi_dim', 'pypi_dim_next');
