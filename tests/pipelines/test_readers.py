"""Readers during runs: while a full run, an incremental run, a failed run, a run killed with kill -9 and a run
of utils alone go on, a reader polls every published table without a single error, and sees each changed day
either whole-old or whole-new."""

import datetime
import os
import signal
import subprocess
import threading
import time

import psycopg2
import pytest

from app import data_sets
from app.sample_data import generate
from tests.support.db import connect, reset_databases
from tests.support.servers import wait_for
from tests.support.warehouse import (
    PUBLISHED_SCHEMAS,
    assert_succeeded,
    day_id,
    differences,
    finish,
    from_scratch,
    run_etl,
    start_etl,
    state,
    tables,
    write_day,
)

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse

FIRST_DAY = datetime.date(2018, 4, 1)
CHANGED_DAY = datetime.date(2018, 4, 2)
ENV = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-30'}
ROWS = 3000


class Reader(threading.Thread):
    """Queries every published table over and over, and the totals of one day in the facts, the daily
    aggregates, the flat data set and pp_dim."""

    DAY_TOTALS = """
SELECT (SELECT sum(number_of_downloads) FROM pypi_dim.download_counts WHERE day_fk = %(day)s),
       (SELECT sum(number_of_downloads) FROM pypi_dim.daily_project_downloads WHERE day_fk = %(day)s),
       (SELECT sum("Number of downloads") FROM pypi_dim.download_counts_data_set WHERE "Date" = %(date)s),
       (SELECT sum(number_of_downloads) FROM pp_dim.python_project_activity WHERE day_fk = %(day)s)"""

    def __init__(self, day: datetime.date):
        super().__init__(daemon=True)
        self.tables = tables(schemas=PUBLISHED_SCHEMAS)
        self.day = day
        self.errors, self.totals, self.reads = [], set(), 0
        self.stopping = threading.Event()

    def run(self):
        connection = connect()
        connection.autocommit = True
        try:
            while not self.stopping.is_set():
                with connection.cursor() as cursor:
                    for table in self.tables:
                        try:
                            cursor.execute(f'SELECT count(*) FROM {table}')
                            self.reads += 1
                        except psycopg2.Error as error:
                            self.errors.append(f'{table}: {error}')
                    try:
                        cursor.execute(self.DAY_TOTALS, {'day': day_id(self.day), 'date': self.day})
                        self.totals.add(cursor.fetchone())
                    except psycopg2.Error as error:
                        self.errors.append(f'the totals of {self.day}: {error}')
                time.sleep(0.02)
        finally:
            connection.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.join(timeout=30)


@pytest.fixture(scope='module')
def data_dir(databases, tmp_path_factory):
    """Three days, built once."""
    path = tmp_path_factory.mktemp('readers')
    generate(path, FIRST_DAY, 3, ROWS, ROWS, seed=5)
    reset_databases()
    assert_succeeded(run_etl(path, **ENV))
    return path


def day_totals() -> tuple:
    connection = connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(Reader.DAY_TOTALS, {'day': day_id(CHANGED_DAY), 'date': CHANGED_DAY})
            return cursor.fetchone()
    finally:
        connection.close()


def change_the_day(data_dir, seed: int) -> None:
    from app.sample_data import generator
    generator.write_file(data_sets.PYPI.path(data_dir, CHANGED_DAY, data_sets.PYPI.versions[0]), 'pypi',
                         CHANGED_DAY, ROWS + seed, seed)


def test_a_full_run(data_dir):
    old = day_totals()
    with Reader(CHANGED_DAY) as reader:
        assert_succeeded(run_etl(data_dir, FULL_REBUILD='true', **ENV))
    assert reader.errors == [] and reader.reads > 100
    assert reader.totals == {old}


def test_an_incremental_run_that_changes_a_day(data_dir):
    old = day_totals()
    change_the_day(data_dir, seed=11)
    generate(data_dir, FIRST_DAY + datetime.timedelta(days=3), 1, ROWS, ROWS, seed=5)
    with Reader(CHANGED_DAY) as reader:
        assert_succeeded(run_etl(data_dir, **ENV))
    new = day_totals()
    assert new != old
    assert reader.errors == [] and reader.reads > 100
    # pypi_dim's tables change in one transaction, pp_dim's in a later one
    assert reader.totals <= {old, new, (*new[:3], old[3])}


def test_a_failed_run(data_dir):
    old = day_totals()
    write_day(data_dir, data_sets.GITHUB, FIRST_DAY + datetime.timedelta(days=5), [('a', 'b', -1, None, None, None)])
    change_the_day(data_dir, seed=12)
    with Reader(CHANGED_DAY) as reader:
        result = run_etl(data_dir, **ENV)
    assert result.returncode != 0
    assert reader.errors == [] and reader.reads > 50
    # the pypi pipeline may have published its changed day before github failed; pp_dim did not run
    assert reader.totals <= {old, (*day_totals()[:3], old[3])}
    data_sets.GITHUB.path(data_dir, FIRST_DAY + datetime.timedelta(days=5)).unlink()
    assert_succeeded(run_etl(data_dir, **ENV))


@pytest.mark.parametrize('moment', ['plan_repo_activity', 'publish_pypi_dim'])
def test_a_run_killed_with_kill_9(data_dir, moment):
    old = day_totals()
    change_the_day(data_dir, seed=13 if moment.startswith('plan') else 14)
    with Reader(CHANGED_DAY) as reader:
        run = start_etl(data_dir, **ENV, stderr=subprocess.STDOUT, start_new_session=True)
        for line in run.stdout:
            if f'/ {moment}:' in line:
                break
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        time.sleep(0.5)
    assert reader.errors == [] and reader.reads > 20
    assert reader.totals <= {old, (*day_totals()[:3], old[3])}

    # the next run plans the days again and gets to the same warehouse as a build from scratch
    result = run_etl(data_dir, **ENV)
    assert_succeeded(result)
    assert differences(state(), from_scratch(data_dir, f'test_kill_scratch_{os.getpid()}', **ENV)) == {}


def test_utils_alone(data_dir):
    old, keys = day_totals(), foreign_keys()
    with Reader(CHANGED_DAY) as reader:
        assert_succeeded(run_etl(data_dir, '--path', 'utils', **ENV))
    assert reader.errors == [] and reader.reads > 20
    assert reader.totals == {old}
    assert foreign_keys() == keys and len(keys) == 11  # none of the published foreign keys went missing


def foreign_keys() -> list[tuple]:
    from tests.support.warehouse import query
    # the join hides the shards of Citus's reference tables on the coordinator (from pg_class, not pg_constraint)
    return query("""SELECT conrelid::REGCLASS::TEXT, pg_get_constraintdef(pg_constraint.oid) FROM pg_constraint
                    JOIN pg_class ON pg_class.oid = conrelid
                    WHERE contype = 'f' AND conparentid = 0
                      AND connamespace::REGNAMESPACE::TEXT IN ('pypi_dim', 'gh_dim', 'pp_dim') ORDER BY 1, 2""")


def test_a_reader_in_a_transaction_that_reads_the_tables_in_another_order_than_the_publish(data_dir):
    """A reader's transaction holds download_counts and then reads daily_project_downloads, while the publish of
    the same day waits: a publish that took its locks one table after another would deadlock with it, and
    PostgreSQL would fail one of the two."""
    old = day_totals()
    change_the_day(data_dir, seed=15)
    connection = connect()
    try:
        with connection.cursor() as cursor:  # a transaction, as psycopg2 and many BI tools open one
            cursor.execute('SELECT sum(number_of_downloads) FROM pypi_dim.download_counts WHERE day_fk = %s',
                           (day_id(CHANGED_DAY),))
            first = cursor.fetchone()[0]
            run = start_etl(data_dir, **ENV, stderr=subprocess.STDOUT)
            wait_for(lambda: publishing_sessions() > 0, 300, 'the publish of pypi_dim to start')
            time.sleep(1.5)  # longer than deadlock_timeout: the publish has been waiting for the reader
            cursor.execute('SELECT sum(number_of_downloads) FROM pypi_dim.daily_project_downloads WHERE day_fk = %s',
                           (day_id(CHANGED_DAY),))
            assert (first, cursor.fetchone()[0]) == old[:2]  # the old day, whole, in both tables
        connection.commit()
    finally:
        connection.close()
    assert_succeeded(finish(run))
    assert day_totals() != old


def publishing_sessions() -> int:
    from tests.support.warehouse import query
    return query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%util.%%publish%%(''pypi_data''%%' "
                 "AND pid <> pg_backend_pid()")[0][0]


def test_a_publish_that_waits_too_long_for_a_reader_names_it(data_dir):
    reader, publisher = connect(), connect()
    try:
        with reader.cursor() as cursor:
            cursor.execute("SET application_name = 'the report'")
            cursor.execute('SELECT count(*) FROM pp_dim.python_project_activity')  # the transaction stays open
            reader_pid = reader.get_backend_pid()
        with publisher.cursor() as cursor, pytest.raises(psycopg2.errors.RaiseException) as raised:
            cursor.execute("SELECT util.lock_for_publish('pypi_data', 'pypi_dim', max_wait => '1 second')")
        message = raised.value.diag.message_primary
        assert message.startswith('could not publish pypi_dim: its tables stayed in use for 00:00:01 (')
        assert f'by pid {reader_pid} (the report, idle in transaction since ' in message
        assert raised.value.diag.message_hint.startswith('End or wait for those sessions')
    finally:
        reader.close()
        publisher.close()
