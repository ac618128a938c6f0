-- pp_data.published_day: the days of pp_dim, each with the versions (SHA-256) of the PyPI and GitHub files it
-- was built from. A day whose files changed is built again (plan_days.sql).
CREATE SCHEMA IF NOT EXISTS pp_data;

CREATE TABLE IF NOT EXISTS pp_data.published_day (
  day_id        INTEGER     NOT NULL PRIMARY KEY,
  pypi_sha256   TEXT        NOT NULL,  -- of the day's PyPI file
  github_sha256 TEXT,                  -- of the day's GitHub file; NULL: the day has none
  published_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
