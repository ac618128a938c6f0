-- time.day: one row per calendar day from FIRST_DATE until LAST_DATE.
-- Grain: one day. day_id is the day as an integer YYYYMMDD, the key that all facts reference.

SELECT util.drop_next_schema('time_next');
CREATE SCHEMA time_next;

CREATE TABLE time_next.day (
  day_id                  INTEGER  NOT NULL PRIMARY KEY, -- 20180410
  _date                   DATE     NOT NULL UNIQUE,      -- 2018-04-10
  day_name                TEXT     NOT NULL,             -- Tuesday
  day_of_week             SMALLINT NOT NULL,             -- ISO: 1 = Monday .. 7 = Sunday
  day_of_month            SMALLINT NOT NULL,             -- 10
  day_of_year             SMALLINT NOT NULL,             -- 100
  is_weekend              BOOLEAN  NOT NULL,
  iso_year                SMALLINT NOT NULL,             -- 2018 (the year the ISO week belongs to)
  iso_week                SMALLINT NOT NULL,             -- 15
  iso_year_and_week_id    INTEGER  NOT NULL,             -- 201815
  iso_year_and_week_name  TEXT     NOT NULL,             -- 2018 - CW 15
  month_of_year           SMALLINT NOT NULL,             -- 4
  month_name              TEXT     NOT NULL,             -- April
  year_and_month_id       INTEGER  NOT NULL,             -- 201804
  year_and_month_name     TEXT     NOT NULL,             -- 2018 April
  quarter                 SMALLINT NOT NULL,             -- 2
  year_and_quarter_id     INTEGER  NOT NULL,             -- 20182
  year_and_quarter_name   TEXT     NOT NULL,             -- 2018 Q2
  year                    SMALLINT NOT NULL              -- 2018
);

-- With Citus worker nodes: a copy on every node, which the facts of every shard reference.
SELECT util.distribute('time_next', 'day') AS distribution;

INSERT INTO time_next.day
SELECT to_char(d, 'YYYYMMDD')::INTEGER,
       d,
       to_char(d, 'FMDay'),
       extract(ISODOW FROM d),
       extract(DAY FROM d),
       extract(DOY FROM d),
       extract(ISODOW FROM d) IN (6, 7),
       extract(ISOYEAR FROM d),
       extract(WEEK FROM d),
       extract(ISOYEAR FROM d) * 100 + extract(WEEK FROM d),
       to_char(d, 'IYYY "- CW" IW'),
       extract(MONTH FROM d),
       to_char(d, 'FMMonth'),
       extract(YEAR FROM d) * 100 + extract(MONTH FROM d),
       to_char(d, 'YYYY FMMonth'),
       extract(QUARTER FROM d),
       extract(YEAR FROM d) * 10 + extract(QUARTER FROM d),
       to_char(d, 'YYYY "Q"Q'),
       extract(YEAR FROM d)
FROM generate_series(to_date('@first_day_id@', 'YYYYMMDD'), to_date('@last_day_id@', 'YYYYMMDD'),
                     INTERVAL '1 day') AS days(ts),
     LATERAL (SELECT ts::DATE AS d) AS day;

-- Publish. The first time, and whenever the utils pipeline changed (the day attributes may have), time_next
-- replaces time (util.replace_schema keeps the foreign keys of the facts on time.day). Otherwise time.day
-- only gains the new days. Days that left FIRST_DATE..LAST_DATE go once no fact references them any more:
-- the pipelines take their days out first, and trim time.day again when they publish.
DO $$
BEGIN
  IF obj_description(to_regnamespace('time'), 'pg_namespace') IS DISTINCT FROM '@version_comment@' THEN
    PERFORM util.replace_schema('time', 'time_next');
    COMMENT ON SCHEMA time IS '@version_comment@';
  ELSE
    INSERT INTO time.day SELECT * FROM time_next.day ON CONFLICT (day_id) DO NOTHING;
    DROP SCHEMA time_next CASCADE;
  END IF;
  RAISE NOTICE '%', util.trim_time_dimension(@first_day_id@, @last_day_id@);
END
$$;
