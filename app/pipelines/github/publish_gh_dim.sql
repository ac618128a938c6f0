-- Publishes what this run built, in one transaction (util.publish_build): the raw days into github_data, then
-- either gh_dim_next as gh_dim (a full build) or its new repositories and day partitions into gh_dim.

-- The foreign keys of gh_dim. A full build declares them on the new tables, each checked once for all days;
-- an incremental build keeps gh_dim's, which check each new day partition when it is attached.
-- The key to the new repositories comes first, before the publish's locks: checking it needs no published
-- table, so readers and the other pipelines' publishes need not wait for it (5 s of the 30 benchmark days).
SELECT util.add_fk('gh_dim_next', 'repo_activity', 'repo_fk', 'gh_dim_next', 'repo', 'repo_id')
WHERE (SELECT full_rebuild FROM github_data_next.build);

BEGIN;

-- First the locks, before the foreign key below locks time.day (util.lock_for_publish).
SELECT util.lock_for_publish('github_data', 'gh_dim');

SELECT util.add_fk('gh_dim_next', 'repo_activity', 'day_fk', 'time', 'day', 'day_id')
WHERE (SELECT full_rebuild FROM github_data_next.build);

SELECT util.publish_build('github_data', 'gh_dim', dimensions => ARRAY['repo'], data_set => 'github');

COMMIT;
