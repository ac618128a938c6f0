-- Publishes what this run built, in one transaction (util.publish_build): the raw days into github_data, then
-- either gh_dim_next as gh_dim (a full build) or its new repositories and day partitions into gh_dim.

BEGIN;

-- First the locks, before the foreign keys below lock time.day (util.lock_for_publish).
SELECT util.lock_for_publish('github_data', 'gh_dim');

-- The foreign keys of gh_dim. A full build declares them on the new tables, each checked once for all days;
-- an incremental build keeps gh_dim's, which check each new day partition when it is attached.
SELECT util.add_fk('gh_dim_next', table_name, fk_column, ref_schema, ref_table, ref_column)
FROM (VALUES ('repo_activity', 'day_fk',  'time',        'day',  'day_id'),
             ('repo_activity', 'repo_fk', 'gh_dim_next', 'repo', 'repo_id'))
  AS foreign_key (table_name, fk_column, ref_schema, ref_table, ref_column)
WHERE (SELECT full_rebuild FROM github_data_next.build);

SELECT util.publish_build('github_data', 'gh_dim', dimensions => ARRAY['repo'], data_set => 'github');

COMMIT;
