-- The days of pp_dim that this run builds: every day with PyPI downloads whose PyPI or GitHub file differs from
-- the one pp_dim built it from (every day, in a full build), and the days to take out: those without PyPI
-- downloads any more. pypi and github published their days before this pipeline runs.
CREATE TABLE pp_data_next.planned_day (LIKE pp_data.published_day INCLUDING ALL);
ALTER TABLE pp_data_next.planned_day DROP COLUMN published_at;

INSERT INTO pp_data_next.planned_day
SELECT pypi.day_id, pypi.sha256, github.sha256
FROM pypi_data.published_day AS pypi
  LEFT JOIN github_data.published_day AS github USING (day_id)
  LEFT JOIN pp_data.published_day AS built USING (day_id)
WHERE (SELECT full_rebuild FROM pp_data_next.build)
   OR built.day_id IS NULL
   OR (built.pypi_sha256, built.github_sha256) IS DISTINCT FROM (pypi.sha256, github.sha256);

UPDATE pp_data_next.build
SET removed_day_ids = (SELECT coalesce(array_agg(day_id ORDER BY day_id), '{}') FROM pp_data.published_day
                       WHERE day_id NOT IN (SELECT day_id FROM pypi_data.published_day));

SELECT format('%s days to build, %s to take out%s', (SELECT count(*) FROM pp_data_next.planned_day),
              cardinality(removed_day_ids), CASE WHEN full_rebuild THEN ' (full build)' ELSE '' END) AS plan
FROM pp_data_next.build;
