-- time.day: one row per calendar day from @first_date@ until @last_date@.
-- Grain: one day. day_id is the day as an integer YYYYMMDD, the key that all facts reference.

DROP SCHEMA IF EXISTS time_next CASCADE;
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
FROM generate_series(DATE '@first_date@', DATE '@last_date@', INTERVAL '1 day') AS days(ts),
     LATERAL (SELECT ts::DATE AS d) AS day;

-- Publish. The facts of other schemas reference time.day, and replacing the schema drops their
-- foreign keys (DROP SCHEMA ... CASCADE). Day ids are natural keys, so the keys are declared again on
-- the new table in the same transaction; should a referenced day have left the range, the swap fails
-- and the old time schema stays.
DO $$
DECLARE
  reference RECORD;
  references_to_day JSONB;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('table', conrelid::REGCLASS::TEXT, 'name', conname,
                                               'definition', pg_get_constraintdef(oid))), '[]')
  INTO references_to_day
  FROM pg_constraint
  WHERE contype = 'f' AND confrelid = to_regclass('time.day') AND conrelid <> to_regclass('time.day')
    AND conparentid = 0;  -- partitions inherit their copies of a key from the parent's

  PERFORM util.replace_schema('time', 'time_next');

  FOR reference IN SELECT * FROM jsonb_to_recordset(references_to_day) AS r("table" TEXT, name TEXT, definition TEXT)
  LOOP
    -- "table" is a REGCLASS rendered as text, already quoted where needed
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', reference."table", reference.name, reference.definition);
  END LOOP;
END
$$;
