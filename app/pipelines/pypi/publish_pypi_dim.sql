-- Publishes what this run built, in one transaction (util.publish_build): the raw days into pypi_data, then
-- either pypi_dim_next as pypi_dim (a full build) or its new members and day partitions into pypi_dim.

-- The foreign keys of pypi_dim. A full build declares them on the new tables, each checked once for all days;
-- an incremental build keeps pypi_dim's, which check each new day partition when it is attached.
-- The keys between the new tables come first, before the publish's locks: checking them needs no published
-- table, so readers and the other pipelines' publishes need not wait for it.
SELECT util.add_fk('pypi_dim_next', table_name, fk_column, 'pypi_dim_next', ref_table, ref_column)
FROM (VALUES ('download_counts',         'project_version_fk', 'project_version', 'project_version_id'),
             ('download_counts',         'installer_fk',       'installer',       'installer_id'),
             ('download_counts',         'python_version_fk',  'python_version',  'python_version_id'),
             ('daily_project_downloads', 'project_fk',         'project',         'project_id'),
             ('project_version',         'project_fk',         'project',         'project_id'))
  AS foreign_key (table_name, fk_column, ref_table, ref_column)
WHERE (SELECT full_rebuild FROM pypi_data_next.build);

BEGIN;

-- First the locks, before the foreign keys below lock time.day (util.lock_for_publish).
SELECT util.lock_for_publish('pypi_data', 'pypi_dim');

SELECT util.add_fk('pypi_dim_next', table_name, 'day_fk', 'time', 'day', 'day_id')
FROM (VALUES ('download_counts'), ('daily_project_downloads')) AS foreign_key (table_name)
WHERE (SELECT full_rebuild FROM pypi_data_next.build);

SELECT util.publish_build('pypi_data', 'pypi_dim',
                          dimensions => ARRAY['project', 'project_version', 'installer', 'python_version'],
                          data_set => 'pypi');

COMMIT;
