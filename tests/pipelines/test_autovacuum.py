"""Autovacuum leaves the tables that a run builds alone until they are published (util.pause_autovacuum), and then
takes care of them again, after a full build and after an incremental one."""

import datetime

from app import data_sets
from tests.support.db import query, reset_databases
from tests.support.warehouse import assert_succeeded, output, run_etl, write_day

ENV = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-30'}
ROWS = [('pallets', 'flask', 10, 6, 3, 4), ('psf', 'requests', None, 2, None, 1)]


def paused_tables() -> list[tuple]:
    return query("""
SELECT relnamespace::REGNAMESPACE::TEXT, relname FROM pg_class
WHERE 'autovacuum_enabled=false' = ANY (reloptions) ORDER BY 1, 2""")


def heap_tables(*schemas: str) -> list[tuple]:
    return query("""
SELECT relnamespace::REGNAMESPACE::TEXT, relname FROM pg_class JOIN pg_am ON pg_am.oid = relam
WHERE relnamespace::REGNAMESPACE::TEXT = ANY (%s) AND relkind = 'r' AND amname = 'heap' ORDER BY 1, 2""",
                 (list(schemas),))


def plan_github(data_dir) -> str:
    result = run_etl(data_dir, '--path', 'github', '--nodes', 'plan_repo_activity', **ENV)
    assert_succeeded(result)
    return output(result)


def test_autovacuum_waits_for_the_tables_of_a_run_until_they_are_published(tmp_path):
    write_day(tmp_path, data_sets.GITHUB, datetime.date(2018, 4, 1), ROWS)
    reset_databases()
    assert_succeeded(run_etl(tmp_path, '--path', 'utils', **ENV))

    # A full build: every table of the _next schemas waits.
    assert 'gh_dim_next: autovacuum waits for its 3 tables until they are published' in plan_github(tmp_path)
    assert paused_tables() == heap_tables('github_data_next', 'gh_dim_next') == [
        ('gh_dim_next', 'repo'), ('gh_dim_next', 'repo_activity_20180401'),
        ('gh_dim_next', 'repo_activity_data_set_20180401'), ('github_data_next', 'build'),
        ('github_data_next', 'planned_day'), ('github_data_next', 'repo_activity_20180401')]
    assert_succeeded(run_etl(tmp_path, **ENV))
    assert paused_tables() == []
    published = query("SELECT reloptions FROM pg_class WHERE oid = 'gh_dim.repo_activity_20180401'::REGCLASS")
    assert published == [(None,)]

    # An incremental build: the new day's partitions wait, and are published into the tables of gh_dim.
    write_day(tmp_path, data_sets.GITHUB, datetime.date(2018, 4, 2), ROWS)
    plan_github(tmp_path)
    assert ('github_data_next', 'repo_activity_20180402') in paused_tables()
    assert ('gh_dim_next', 'repo_activity_20180402') in paused_tables()
    assert_succeeded(run_etl(tmp_path, **ENV))
    assert paused_tables() == []
    assert query("SELECT count(*) FROM gh_dim.repo_activity WHERE day_fk = 20180402") == [(2,)]
