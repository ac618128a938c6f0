-- Publishes what this run built, in one transaction (util.publish_build): either pp_dim_next as pp_dim (a full
-- build) or its day partitions into pp_dim.

BEGIN;

-- First the locks, before the foreign keys below lock time.day (util.lock_for_publish).
SELECT util.lock_for_publish('pp_data', 'pp_dim');

-- The foreign keys of pp_dim. A full build declares them on the new tables; an incremental build keeps
-- pp_dim's, which check each new day partition when it is attached.
SELECT util.add_fk('pp_dim_next', table_name, fk_column, ref_schema, ref_table, ref_column)
FROM (VALUES ('python_project_activity', 'day_fk',     'time',     'day',     'day_id'),
             ('python_project_activity', 'project_fk', 'pypi_dim', 'project', 'project_id'))
  AS foreign_key (table_name, fk_column, ref_schema, ref_table, ref_column)
WHERE (SELECT full_rebuild FROM pp_data_next.build);

SELECT util.publish_build('pp_data', 'pp_dim', dimensions => '{}');

-- A project whose last day left pp_dim (and pypi_dim before) is not used any more.
SELECT util.delete_unreferenced_members('pypi_dim.project');

COMMIT;
