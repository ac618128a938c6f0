"""The `utils` pipeline: helper functions in schema util and the time dimension."""

import threading

import psycopg2
import pytest

from tests.support.db import connect


def test_time_day_holds_exactly_the_configured_days(utils_run, dwh):
    # conftest sets FIRST_DATE=2018-04-01 and LAST_DATE=2018-04-30
    assert dwh('SELECT count(*), min(day_id), max(day_id), min(_date)::TEXT, max(_date)::TEXT FROM time.day') \
        == [(30, 20180401, 20180430, '2018-04-01', '2018-04-30')]
    assert dwh("SELECT count(*) FROM time.day WHERE to_char(_date, 'YYYYMMDD')::INT <> day_id") == [(0,)]


def test_time_day_attributes_of_known_dates(utils_run, dwh):
    columns = ('day_name, day_of_week, iso_year, iso_week, iso_year_and_week_name, month_name, '
               'year_and_month_id, quarter, year_and_quarter_name, is_weekend, day_of_year')
    rows = dwh(f'SELECT day_id, {columns} FROM time.day WHERE day_id IN (20180410, 20180401, 20180430) ORDER BY 1')
    assert rows == [
        (20180401, 'Sunday', 7, 2018, 13, '2018 - CW 13', 'April', 201804, 2, '2018 Q2', True, 91),
        (20180410, 'Tuesday', 2, 2018, 15, '2018 - CW 15', 'April', 201804, 2, '2018 Q2', False, 100),
        (20180430, 'Monday', 1, 2018, 18, '2018 - CW 18', 'April', 201804, 2, '2018 Q2', False, 120),
    ]


def test_iso_week_of_new_year_belongs_to_previous_year(flask_cli, scratch_dwh):
    query = scratch_dwh.query
    result = flask_cli('mara-pipelines', 'run', '--path', 'utils', **scratch_dwh.env,
                       FIRST_DATE='2020-12-30', LAST_DATE='2021-01-04')
    assert result.returncode == 0, result.stdout + result.stderr
    assert query('SELECT day_id, iso_year, iso_week, year FROM time.day ORDER BY day_id') == [
        (20201230, 2020, 53, 2020), (20201231, 2020, 53, 2020), (20210101, 2020, 53, 2021),
        (20210102, 2020, 53, 2021), (20210103, 2020, 53, 2021), (20210104, 2021, 1, 2021)]


def test_add_fk_quotes_identifiers(utils_run, dwh):
    dwh('DROP SCHEMA IF EXISTS "Odd Schema" CASCADE; CREATE SCHEMA "Odd Schema"; '
        'CREATE TABLE "Odd Schema"."Parent" ("Id" INT PRIMARY KEY); '
        'CREATE TABLE "Odd Schema".child (parent_fk INT, "Day" INT)')
    dwh("SELECT util.add_fk('Odd Schema', 'child', 'parent_fk', 'Odd Schema', 'Parent', 'Id')")
    assert dwh("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                  WHERE conrelid = '"Odd Schema".child'::REGCLASS""") == [
        ('child__parent_fk_fkey', 'FOREIGN KEY (parent_fk) REFERENCES "Odd Schema"."Parent"("Id")')]
    dwh('DROP SCHEMA "Odd Schema" CASCADE')


def test_python_names_day_partitions_as_util_does(utils_run, dwh):
    # The loader (Python) writes into the raw partitions that util's functions (SQL) later find by name.
    from app.pipelines.loading import day_partition_name
    assert dwh("SELECT util.day_partition_name('repo_activity', 20180401)") == [('repo_activity_20180401',)]
    assert day_partition_name('repo_activity', 20180401) == 'repo_activity_20180401'


def test_replace_schema_refuses_a_missing_replacement(utils_run, dwh):
    with pytest.raises(psycopg2.Error, match='schema no_such_schema_next does not exist'):
        dwh("SELECT util.replace_schema('no_such_schema', 'no_such_schema_next')")


def test_replace_schema_is_atomic_for_readers(utils_run, dwh):
    dwh('DROP SCHEMA IF EXISTS swap_demo CASCADE; DROP SCHEMA IF EXISTS swap_demo_next CASCADE; '
        'CREATE SCHEMA swap_demo; CREATE TABLE swap_demo.t AS SELECT 1 AS version; '
        'CREATE SCHEMA swap_demo_next; CREATE TABLE swap_demo_next.t AS SELECT 2 AS version')
    writer, reader = connect(), connect()
    try:
        with writer.cursor() as cursor:  # swap, not yet committed
            cursor.execute("SELECT util.replace_schema('swap_demo', 'swap_demo_next')")

        # Meanwhile a reader still sees the old schema in the catalog, and a query of its table
        # waits for the swap instead of failing or seeing a half-done state.
        with reader.cursor() as cursor:
            cursor.execute("SELECT array_agg(nspname ORDER BY nspname) FROM pg_namespace "
                           "WHERE nspname LIKE 'swap_demo%'")
            assert cursor.fetchone() == (['swap_demo', 'swap_demo_next'],)
        reader.commit()
        results = []

        def read():
            with reader.cursor() as cursor:
                cursor.execute('SELECT version FROM swap_demo.t')
                results.append(cursor.fetchall())
        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive() and results == []  # blocked behind the swap

        writer.commit()
        thread.join(timeout=10)
        assert results == [[(2,)]]  # after the commit: the new schema, in one piece
        assert dwh("SELECT count(*) FROM pg_namespace WHERE nspname = 'swap_demo_next'") == [(0,)]
    finally:
        writer.close()
        reader.close()
        dwh('DROP SCHEMA IF EXISTS swap_demo CASCADE')


def test_replace_schema_rolled_back_leaves_the_old_schema(utils_run, dwh):
    dwh('DROP SCHEMA IF EXISTS swap_demo CASCADE; DROP SCHEMA IF EXISTS swap_demo_next CASCADE; '
        'CREATE SCHEMA swap_demo; CREATE TABLE swap_demo.t AS SELECT 1 AS version; '
        'CREATE SCHEMA swap_demo_next; CREATE TABLE swap_demo_next.t AS SELECT 2 AS version')
    writer = connect()
    with writer.cursor() as cursor:
        cursor.execute("SELECT util.replace_schema('swap_demo', 'swap_demo_next')")
    writer.rollback()
    writer.close()
    assert dwh('SELECT version FROM swap_demo.t') == [(1,)]
    assert dwh('SELECT version FROM swap_demo_next.t') == [(2,)]
    dwh('DROP SCHEMA swap_demo CASCADE; DROP SCHEMA swap_demo_next CASCADE')


def test_rebuilding_time_keeps_the_foreign_keys_of_other_schemas(flask_cli, scratch_dwh):
    """When the utils pipeline changed (its version is on the time schema), time_next replaces time; the facts'
    keys on time.day are declared again, and days that facts still reference stay until nothing does."""
    query, settings = scratch_dwh.query, scratch_dwh.env
    assert flask_cli('mara-pipelines', 'run', '--path', 'utils', **settings).returncode == 0
    query('CREATE SCHEMA fk_demo; '
          'CREATE TABLE fk_demo.fact (day_fk INT REFERENCES time.day (day_id)); '
          'CREATE TABLE fk_demo.partitioned (day_fk INT REFERENCES time.day (day_id)) PARTITION BY LIST (day_fk); '
          'CREATE TABLE fk_demo.partition_20180410 PARTITION OF fk_demo.partitioned FOR VALUES IN (20180410); '
          'INSERT INTO fk_demo.fact VALUES (20180410); INSERT INTO fk_demo.partitioned VALUES (20180410)')
    query("COMMENT ON SCHEMA time IS 'built by an older version'")
    result = flask_cli('mara-pipelines', 'run', '--path', 'utils', **settings, FIRST_DATE='2018-04-20')
    assert result.returncode == 0, result.stdout + result.stderr
    assert query("""SELECT conrelid::REGCLASS::TEXT, conname, pg_get_constraintdef(oid) FROM pg_constraint
                    WHERE connamespace = 'fk_demo'::REGNAMESPACE ORDER BY 1""") == [
        ('fk_demo.fact', 'fact_day_fk_fkey', 'FOREIGN KEY (day_fk) REFERENCES "time".day(day_id)'),
        ('fk_demo.partition_20180410', 'partitioned_day_fk_fkey', 'FOREIGN KEY (day_fk) REFERENCES "time".day(day_id)'),
        ('fk_demo.partitioned', 'partitioned_day_fk_fkey', 'FOREIGN KEY (day_fk) REFERENCES "time".day(day_id)')]
    # the referenced day outside the new range was carried over; the others are gone
    assert query('SELECT count(*), min(day_id) FROM time.day') == [(12, 20180410)]
    assert query("SELECT obj_description('time'::REGNAMESPACE, 'pg_namespace') LIKE 'built by version %'") \
        == [(True,)]

    query('DROP SCHEMA fk_demo CASCADE')
    assert flask_cli('mara-pipelines', 'run', '--path', 'utils', **settings, FIRST_DATE='2018-04-20').returncode == 0
    assert query('SELECT count(*), min(day_id) FROM time.day') == [(11, 20180420)]


def test_util_is_not_recreated_while_something_outside_uses_it(flask_cli, scratch_dwh):
    query, settings = scratch_dwh.query, scratch_dwh.env
    assert flask_cli('mara-pipelines', 'run', '--path', 'utils', **settings).returncode == 0
    query("CREATE TABLE public.uses_util (d DATE DEFAULT to_date(util.day_value('time.day', 20180410), 'YYYY-MM-DD'))")
    result = flask_cli('mara-pipelines', 'run', '--path', 'utils', **settings)
    assert result.returncode != 0
    assert 'not recreating schema util: default value for column d of table uses_util depend(s) on its functions' \
        in result.stdout + result.stderr
    assert query("SELECT to_regclass('public.uses_util') IS NOT NULL") == [(True,)]


def test_publish_members_adds_the_new_members_and_fails_on_a_hash_collision(utils_run, dwh):
    dwh('DROP SCHEMA IF EXISTS members_demo CASCADE; DROP SCHEMA IF EXISTS members_demo_next CASCADE; '
        'CREATE SCHEMA members_demo; CREATE SCHEMA members_demo_next; '
        'CREATE TABLE members_demo.member (member_id BIGINT PRIMARY KEY, name TEXT NOT NULL, note TEXT); '
        "INSERT INTO members_demo.member VALUES (1, 'flask', NULL), (2, 'django', 'web'); "
        'CREATE TABLE members_demo_next.member (LIKE members_demo.member)')
    try:
        dwh("INSERT INTO members_demo_next.member VALUES (1, 'flask', NULL), (3, 'numpy', NULL), (4, 'pandas', 'x')")
        assert dwh("SELECT util.publish_members('members_demo', 'members_demo_next', 'member')") \
            == [('members_demo.member: 2 new members',)]
        assert dwh('SELECT * FROM members_demo.member ORDER BY 1') \
            == [(1, 'flask', None), (2, 'django', 'web'), (3, 'numpy', None), (4, 'pandas', 'x')]

        # Id 2 exists with another name: two natural keys with one hash. Nothing is added.
        dwh("TRUNCATE members_demo_next.member; "
            "INSERT INTO members_demo_next.member VALUES (2, 'requests', 'web'), (5, 'scipy', NULL)")
        with pytest.raises(psycopg2.Error, match=r'members_demo\.member: two members with the same id \(a hash '
                                                 r'collision\): \(2,requests,web\) and \(2,django,web\)'):
            dwh("SELECT util.publish_members('members_demo', 'members_demo_next', 'member')")
        assert dwh('SELECT count(*) FROM members_demo.member') == [(4,)]
    finally:
        dwh('DROP SCHEMA members_demo CASCADE; DROP SCHEMA members_demo_next CASCADE')


UNREFERENCED_DEMO_TABLES = """
CREATE TABLE unreferenced_demo.member (member_id BIGINT PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO unreferenced_demo.member VALUES (1, 'flask'), (2, 'django'), (3, 'numpy');
CREATE TABLE unreferenced_demo.fact (member_fk BIGINT NOT NULL REFERENCES unreferenced_demo.member,
                                     day_id INTEGER NOT NULL) PARTITION BY LIST (day_id);
CREATE TABLE unreferenced_demo.fact_1 PARTITION OF unreferenced_demo.fact FOR VALUES IN (1);
CREATE TABLE unreferenced_demo.fact_2 PARTITION OF unreferenced_demo.fact FOR VALUES IN (2);
INSERT INTO unreferenced_demo.fact VALUES (1, 1), (2, 2);
"""


@pytest.mark.parametrize('superuser', [True, False], ids=['as a superuser', 'as the owner'])
def test_delete_unreferenced_deletes_exactly_the_rows_that_nothing_references(utils_run, dwh, superuser):
    """A superuser deletes with the foreign keys in place and their checks skipped; the owner alone drops the keys
    and declares them again (each checks every partition). Both keep the keys."""
    role = 'unreferenced_demo_owner'
    as_role = '' if superuser else f'SET ROLE {role}; '
    dwh(f'DROP SCHEMA IF EXISTS unreferenced_demo CASCADE; DROP ROLE IF EXISTS {role}; '
        f'CREATE ROLE {role} NOSUPERUSER; GRANT USAGE ON SCHEMA util TO {role}; '
        f'CREATE SCHEMA unreferenced_demo AUTHORIZATION {role}')
    foreign_key = ("SELECT oid, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = 'unreferenced_demo.fact'::REGCLASS AND contype = 'f'")
    try:
        dwh(as_role + UNREFERENCED_DEMO_TABLES)
        (key_before, definition), = dwh(foreign_key)

        assert dwh(as_role + "SELECT util.delete_unreferenced('unreferenced_demo.member', ARRAY[1, 2, 3]::BIGINT[]), "
                             "current_setting('session_replication_role')") == [(1, 'origin')]
        assert dwh('SELECT * FROM unreferenced_demo.member ORDER BY 1') == [(1, 'flask'), (2, 'django')]
        (key_after, definition_after), = dwh(foreign_key)
        assert definition_after == definition == \
            'FOREIGN KEY (member_fk) REFERENCES unreferenced_demo.member(member_id)'
        assert (key_after == key_before) is superuser
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):
            dwh('INSERT INTO unreferenced_demo.fact VALUES (3, 1)')
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):
            dwh('DELETE FROM unreferenced_demo.member WHERE member_id = 2')
    finally:
        dwh(f'DROP SCHEMA unreferenced_demo CASCADE; REVOKE USAGE ON SCHEMA util FROM {role}; DROP ROLE {role}')


COUNTED_DEMO_TABLES = """
CREATE TABLE {schema}.member (member_id BIGINT PRIMARY KEY, name TEXT NOT NULL,
                              number_of_references INTEGER NOT NULL DEFAULT 0);
CREATE TABLE {schema}.fact (member_fk BIGINT NOT NULL REFERENCES {schema}.member, day_id INTEGER NOT NULL)
  PARTITION BY LIST (day_id);
"""

# The sequential scans of the facts' partitions in this transaction.
FACT_SCANS = "SELECT sum(seq_scan)::INTEGER FROM pg_stat_xact_user_tables WHERE schemaname = 'counted_demo'"


def test_reference_counts_follow_the_published_days_and_spare_the_scan_of_the_facts(utils_run, dwh):
    """A dimension with `number_of_references`: publishing adds the new days' counts and subtracts those of the
    days replaced or taken out; the members left at 0 are deleted without reading a day partition of the facts."""
    dwh('DROP SCHEMA IF EXISTS counted_demo CASCADE; DROP SCHEMA IF EXISTS counted_demo_next CASCADE; '
        'CREATE SCHEMA counted_demo; CREATE SCHEMA counted_demo_next; '
        + COUNTED_DEMO_TABLES.format(schema='counted_demo') + COUNTED_DEMO_TABLES.format(schema='counted_demo_next')
        + 'CREATE TABLE counted_demo.fact_1 PARTITION OF counted_demo.fact FOR VALUES IN (1); '
          'CREATE TABLE counted_demo.fact_2 PARTITION OF counted_demo.fact FOR VALUES IN (2); '
          'CREATE TABLE counted_demo_next.fact_2 PARTITION OF counted_demo_next.fact FOR VALUES IN (2); '
          "INSERT INTO counted_demo.member VALUES (-1, 'Unknown', 0), (1, 'flask', 3), (2, 'django', 1), "
          "                                       (3, 'numpy', 1); "
          'INSERT INTO counted_demo.fact VALUES (1, 1), (1, 1), (2, 1), (-1, 1), (1, 2), (3, 2); '
          # the new version of day 2, and day 1 taken out
          "INSERT INTO counted_demo_next.member VALUES (3, 'numpy', 2), (4, 'pandas', 1); "
          'INSERT INTO counted_demo_next.fact VALUES (3, 2), (3, 2), (4, 2)')
    try:
        assert dwh("SELECT util.counted_foreign_keys('counted_demo.member')::TEXT") \
            == [('(counted_demo.fact,member_fk)',)]
        published = dwh(
            "SELECT util.publish_members('counted_demo', 'counted_demo_next', 'member'); "
            "SELECT util.publish_days('counted_demo', 'counted_demo_next', ARRAY[1]); "
            f"CREATE TEMPORARY TABLE scans_before AS {FACT_SCANS}; "
            "SELECT util.delete_unreferenced_members('counted_demo.member'), "
            f"      ({FACT_SCANS}) - (SELECT * FROM scans_before)")
        assert published == [('counted_demo.member: 2 members deleted that nothing references any more', 0)]
        # flask: 3 - 2 (day 1) - 1 (the old day 2); numpy: 1 - 1 + 2; the unknown member is not counted
        assert dwh('SELECT * FROM counted_demo.member ORDER BY 1') \
            == [(-1, 'Unknown', 0), (3, 'numpy', 2), (4, 'pandas', 1)]
        assert dwh('SELECT member_fk, count(*) FROM counted_demo.fact GROUP BY 1 ORDER BY 1') == [(3, 2), (4, 1)]
    finally:
        dwh('DROP SCHEMA IF EXISTS counted_demo CASCADE; DROP SCHEMA IF EXISTS counted_demo_next CASCADE')
