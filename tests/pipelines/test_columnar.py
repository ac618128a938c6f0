"""Storage of the flat data sets and the raw days: columnar when the server has it (COLUMNAR_STORAGE=auto), heap
otherwise; the distribution of the tables over Citus worker nodes; and day partitions that are attached to the
published tables without a scan. `make test` runs these on the default server (no Citus: heap), on a single Citus
node and on a Citus coordinator with two workers (TEST_CLUSTER, tests/support/cluster.py), each for real."""

import datetime

import psycopg2.errors
import pytest

from app import data_sets
from tests.support import cluster
from tests.support.db import connect, loads_citus, query, reset_databases
from tests.support.warehouse import assert_succeeded, output, run_etl, write_day

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse

DATA_SETS = ['pypi_dim.download_counts_data_set', 'gh_dim.repo_activity_data_set',
             'pp_dim.python_project_activity_data_set']
# The raw days: loaded as heap (the quality gates number their lines by ctid), stored like the flat data sets once
# they passed the gates.
RAW = ['pypi_data.downloads', 'github_data.repo_activity']
FACTS = ['pypi_dim.download_counts', 'pypi_dim.daily_project_downloads', 'gh_dim.repo_activity',
         'pp_dim.python_project_activity']
DAY = datetime.date(2018, 4, 10)
ENV = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-30'}


def auto_storage() -> str:
    """The storage that COLUMNAR_STORAGE=auto gives the flat data sets on this session's server."""
    return 'columnar' if loads_citus() else 'heap'


def storages_of(table: str, database: str | None = None) -> set[str]:
    """The storages of the day partitions of a partitioned table."""
    return {row[0] for row in query("""
SELECT amname FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid JOIN pg_am ON pg_am.oid = relam
WHERE inhparent = %s::REGCLASS""", (table,), database=database)}


def test_the_flat_data_sets_are_columnar_where_the_server_has_it(standard_warehouse):
    database, storage = standard_warehouse.env['DWH_DB'], auto_storage()
    assert query('SELECT util.has_columnar_storage()', database=database) == [(storage == 'columnar',)]
    assert [storages_of(table, database) for table in DATA_SETS] == [{storage}] * 3
    assert [storages_of(table, database) for table in RAW] == [{storage}] * 2
    assert [storages_of(table, database) for table in FACTS] == [{'heap'}] * 4  # they take foreign keys
    for table in DATA_SETS:
        schema, name = table.split('.')
        assert f'{schema}_next.{name}: 10 day partitions, {storage} storage' in standard_warehouse.output
    rewritten = 10 if storage == 'columnar' else 0  # heap as loaded
    for table in RAW:
        schema, name = table.split('.')
        assert f'{schema}_next.{name}: {rewritten} day partitions stored as {storage}' in standard_warehouse.output


def test_the_storage_setting(standard_warehouse):
    database, storage = standard_warehouse.env['DWH_DB'], auto_storage()
    assert query("SELECT util.data_set_storage('auto'), util.data_set_storage('off')", database=database) \
        == [(storage, 'heap')]
    if storage == 'heap':
        with pytest.raises(psycopg2.errors.RaiseException, match='COLUMNAR_STORAGE=on, but this server has no col'):
            query("SELECT util.data_set_storage('on')", database=database)
    else:
        assert query("SELECT util.data_set_storage('on')", database=database) == [('columnar',)]
    with pytest.raises(psycopg2.errors.RaiseException, match='use auto, on or off'):
        query("SELECT util.data_set_storage('sometimes')", database=database)


# The distribution of the published tables with Citus worker nodes (pg_dist_partition: 'n' is a reference table,
# 'h' sharded by the hash of the column). Tables sharded by columns of one type are co-located.
DISTRIBUTION = [
    ('"time".day', 'n', None), ('gh_dim.repo', 'n', None), ('gh_dim.repo_activity', 'h', 'repo_fk'),
    ('gh_dim.repo_activity_data_set', 'h', 'Repository'),
    ('pp_dim.python_project_activity', 'h', 'project_fk'),
    ('pp_dim.python_project_activity_data_set', 'h', 'Project'),
    ('pypi_dim.daily_project_downloads', 'h', 'project_fk'), ('pypi_dim.download_counts', 'h', 'project_version_fk'),
    ('pypi_dim.download_counts_data_set', 'h', 'Project'), ('pypi_dim.installer', 'n', None),
    ('pypi_dim.project', 'n', None), ('pypi_dim.project_version', 'n', None), ('pypi_dim.python_version', 'n', None)]


def test_the_tables_are_spread_over_the_worker_nodes(standard_warehouse):
    database = standard_warehouse.env['DWH_DB']
    if cluster.mode() != 'citus-workers':
        assert query('SELECT util.has_worker_nodes()', database=database) == [(False,)]
        assert 'pypi_dim_next.download_counts: on this node' in standard_warehouse.output
        return
    assert query('SELECT util.has_worker_nodes()', database=database) == [(True,)]
    distribution = query("""
SELECT logicalrelid::REGCLASS::TEXT, partmethod, column_to_column_name(logicalrelid, partkey), colocationid
FROM pg_dist_partition JOIN pg_class ON pg_class.oid = logicalrelid
WHERE NOT relispartition
  AND relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('time', 'pypi_dim', 'gh_dim', 'pp_dim'))
ORDER BY 1""", database=database)
    assert [row[:3] for row in distribution] == DISTRIBUTION
    group = {table: colocation for table, _method, _column, colocation in distribution}
    # the README query's and python_projects' joins stay on one worker
    assert group['pp_dim.python_project_activity'] == group['pypi_dim.daily_project_downloads']
    # every day partition is sharded with its table, its shards on both workers
    assert query("""
SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name::TEXT LIKE 'pypi_dim.download_counts_2018%%'""",
                 database=database) == [(2,)]
    assert 'pypi_dim_next.download_counts: distributed by project_version_fk' in standard_warehouse.output


@pytest.fixture
def tiny_day(databases, tmp_path_factory):
    """A fresh warehouse and one day of tiny files."""
    data_dir = tmp_path_factory.mktemp('columnar')
    write_day(data_dir, data_sets.PYPI, DAY, [('flask', '0.12.2', '3.6', 'pip', 45)])
    write_day(data_dir, data_sets.GITHUB, DAY, [('pallets', 'flask', 10, 6, 3, 2)])
    reset_databases()
    yield data_dir
    reset_databases()


def test_columnar_on_and_off(tiny_day):
    """COLUMNAR_STORAGE=on builds columnar flat data sets where the server has columnar storage and fails the run
    where it has none; off builds heap tables anywhere, with the same rows."""
    result = run_etl(tiny_day, COLUMNAR_STORAGE='on', **ENV)
    if loads_citus():
        assert_succeeded(result)
        assert [storages_of(table) for table in DATA_SETS + RAW] == [{'columnar'}] * 5
        assert query('SELECT "Repository", "Number of forks" FROM gh_dim.repo_activity_data_set') == [('flask', 10)]
        assert query('SELECT repository, number_of_forks FROM github_data.repo_activity') == [('flask', 10)]
    else:
        assert result.returncode != 0
        assert 'COLUMNAR_STORAGE=on, but this server has no columnar storage' in output(result)

    assert_succeeded(run_etl(tiny_day, COLUMNAR_STORAGE='off', FULL_REBUILD='true', **ENV))
    assert [storages_of(table) for table in DATA_SETS + RAW] == [{'heap'}] * 5
    assert query('SELECT "Repository", "Number of forks" FROM gh_dim.repo_activity_data_set') == [('flask', 10)]


IMPLIED = 'partition constraint for table "{}" is implied by existing constraints'


@pytest.mark.parametrize('keep_the_check', [True, False])
def test_a_day_partition_is_attached_without_a_scan(standard_warehouse, keep_the_check):
    """util.create_day_partitions gives each partition its bound as a CHECK constraint, and PostgreSQL then
    skips the scan when util.publish_days attaches it (it says so at DEBUG1); without the constraint, it scans."""
    connection = connect(standard_warehouse.env['DWH_DB'])
    try:
        with connection.cursor() as cursor:
            cursor.execute('CREATE SCHEMA scan_demo; CREATE SCHEMA scan_demo_next')
            for schema in ('scan_demo', 'scan_demo_next'):
                cursor.execute(f'CREATE TABLE {schema}.facts (day_fk INTEGER NOT NULL, n INTEGER) '
                               'PARTITION BY LIST (day_fk)')
            cursor.execute("SELECT util.create_day_partitions('scan_demo_next', 'facts', ARRAY[20180410])")
            cursor.execute('INSERT INTO scan_demo_next.facts VALUES (20180410, 1)')
            if not keep_the_check:
                cursor.execute('ALTER TABLE scan_demo_next.facts_20180410 DROP CONSTRAINT day_20180410')
            cursor.execute('SET client_min_messages = debug1')
            cursor.execute("SELECT util.publish_days('scan_demo', 'scan_demo_next', '{}')")
            assert cursor.fetchone() == ('scan_demo: 1 day partition published, 0 days taken out',)
            cursor.execute('SELECT day_fk, n FROM scan_demo.facts')
            assert cursor.fetchall() == [(20180410, 1)]
        implied = [notice for notice in connection.notices if IMPLIED.format('facts_20180410') in notice]
        assert len(implied) == (1 if keep_the_check else 0), connection.notices
    finally:
        connection.rollback()
        connection.close()


def test_published_day_partitions_carry_their_bound(standard_warehouse):
    constraints = standard_warehouse.query("""
SELECT DISTINCT pg_get_constraintdef(pg_constraint.oid)
FROM pg_inherits JOIN pg_constraint ON conrelid = inhrelid
WHERE inhparent IN ('pypi_dim.download_counts'::REGCLASS, 'pypi_dim.download_counts_data_set'::REGCLASS)
  AND contype = 'c' AND conname = 'day_20180410'""")
    assert sorted(constraints) == [("CHECK ((\"Date\" = '2018-04-10'::date))",), ('CHECK ((day_fk = 20180410))',)]
