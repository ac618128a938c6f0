"""The warehouse on a Citus coordinator with worker nodes, where one node does not suffice: a worker that goes down
in the middle of a run (the run fails and names the node, nothing of the run is published, and once the worker is
back the next run builds the warehouse of the files), dimensions filled by parallel query plans, and the members
of a removed day deleted on every node.

The test has a coordinator and two workers of its own (started by .scripts/postgres.sh citus, as `make citus
CITUS_WORKERS=2` does, on free ports), since it stops one of them: the development warehouse and the session's
clusters are never touched. It runs in the default session only: it brings its own Citus cluster in every mode.
"""

import datetime
import pathlib
import re
import subprocess

import pytest

from app import data_sets
from app.sample_data import generate, generator
from tests.support import commands, db
from tests.support.warehouse import assert_succeeded, output, read_day_files, run_etl, start_etl, sums

FIRST_DAY = datetime.date(2018, 4, 1)
DAYS = 3
CHANGED_DAY = datetime.date(2018, 4, 2)
ENV = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-03'}
ROWS = 2000
# A moment of the pypi pipeline after its files are loaded, before it builds in the distributed tables.
MOMENT = 'pypi / check_download_counts:'

DOWNLOADS_PER_DAY = 'SELECT day_fk, sum(number_of_downloads) FROM pypi_dim.download_counts GROUP BY 1 ORDER BY 1'


@pytest.fixture
def citus_cluster(databases, monkeypatch):
    """The settings of a coordinator with two workers of the test's own, this session's databases set up on it;
    mara's settings and the ETL's environment point at it while the test runs."""
    with db.cluster_of_its_own(citus_workers=2) as cluster:
        started = commands.script('postgres.sh', 'citus', env=cluster, timeout=300)
        assert started.returncode == 0, started.stdout + started.stderr
        with db.sessions_on(cluster, monkeypatch):
            yield cluster


def _worker(cluster: dict, number: int) -> tuple[pathlib.Path, int]:
    """(data folder, port) of a worker cluster, as .scripts/postgres.sh citus made it."""
    base = pathlib.Path(cluster['POSTGRES_LOCAL_DIR'])
    return base / f'worker-{number}' / 'data', int(cluster['POSTGRES_PORT']) + number


def _crash(data: pathlib.Path) -> None:
    """Stops a worker as a crash or a lost machine would: immediately, without a checkpoint."""
    pg_ctl = pathlib.Path(subprocess.run(['pg_config', '--bindir'], capture_output=True, text=True,
                                         check=True).stdout.strip()) / 'pg_ctl'
    subprocess.run(['runuser', '-u', 'postgres', '--', str(pg_ctl), 'stop', f'--pgdata={data}', '--mode=immediate',
                    '--wait'], check=True, capture_output=True)


def _file_sums(data_dir: pathlib.Path) -> list[tuple]:
    """DOWNLOADS_PER_DAY computed from the files alone."""
    rows = read_day_files(data_dir, data_sets.PYPI, FIRST_DAY, FIRST_DAY + datetime.timedelta(days=DAYS - 1))
    return sorted(sums(rows, lambda row: int(row['day_id']), 'number_of_downloads').items())


def test_a_worker_that_goes_down_fails_the_run_and_the_next_run_recovers(citus_cluster, tmp_path):
    assert db.query('SELECT count(*) FROM pg_dist_node WHERE noderole = %s AND nodeport <> %s',
                    ('primary', int(citus_cluster['POSTGRES_PORT']))) == [(2,)]
    generate(tmp_path, FIRST_DAY, DAYS, ROWS, ROWS, seed=3)
    assert_succeeded(run_etl(tmp_path, **ENV))
    published = db.query(DOWNLOADS_PER_DAY)
    assert published == _file_sums(tmp_path)

    generator.write_file(data_sets.PYPI.path(tmp_path, CHANGED_DAY, data_sets.PYPI.versions[0]), 'pypi',
                         CHANGED_DAY, ROWS + 7, 7)
    data, port = _worker(citus_cluster, 2)
    run = start_etl(tmp_path, **ENV, stderr=subprocess.STDOUT)
    lines = []
    for line in run.stdout:
        lines.append(line)
        if MOMENT in line:
            _crash(data)
            break
    rest, _ = run.communicate(timeout=300)
    text = ''.join(lines) + rest
    assert run.returncode != 0, text[-4000:]
    # Citus's own error names the node; the task that hit it fails, and with it the run
    assert re.search(rf'^pypi / \S+: ERROR:  connection to the remote node postgres@127\.0\.0\.1:{port} failed with '
                     'the following error: Connection refused$', text, re.MULTILINE), text[-4000:]
    assert 'Traceback' not in text, text[-4000:]

    started = commands.script('postgres.sh', 'start', env=citus_cluster)
    assert started.returncode == 0, started.stdout + started.stderr
    assert db.query(DOWNLOADS_PER_DAY) == published  # nothing of the failed run was published
    result = run_etl(tmp_path, **ENV)
    assert_succeeded(result)
    assert db.query(DOWNLOADS_PER_DAY) == _file_sums(tmp_path) != published, output(result)[-3000:]


# Costs that make PostgreSQL plan a parallel scan even of the test's few rows, as it does at the benchmark volume.
PARALLEL_PLANS = {'parallel_setup_cost': 0, 'parallel_tuple_cost': 0, 'min_parallel_table_scan_size': 0}
# Enough project versions that Citus copies them into the coordinator's copy of pypi_dim_next.project_version
# before the SELECT ends (it copies into a local copy by the megabyte); with fewer, all at the end.
PYPI_ROWS_PER_DAY = 20000


def test_dimensions_are_filled_where_the_planner_chooses_parallel_scans(citus_cluster, tmp_path):
    # Before util.fill_reference_tables_serially, pypi / transform_dimensions failed here with "cannot assign XIDs
    # during a parallel operation" (COPY into the coordinator's copy of pypi_dim_next.project_version)
    dwh, _mara = db.session_databases()
    for name, value in PARALLEL_PLANS.items():
        db.autocommit(f'ALTER DATABASE "{dwh}" SET {name} = {value}')
    generate(tmp_path, FIRST_DAY, DAYS, PYPI_ROWS_PER_DAY, ROWS, seed=5)
    result = run_etl(tmp_path, **ENV)
    assert_succeeded(result)
    assert 'no parallel query in this session: the dimensions are Citus reference tables' in output(result)
    assert db.query(DOWNLOADS_PER_DAY) == _file_sums(tmp_path)
    assert db.query('SELECT count(*) FROM gh_dim.repo WHERE repo_id <> -1') == [(len({
        (row['user'], row['repository']) for row in read_day_files(tmp_path, data_sets.GITHUB, FIRST_DAY,
                                                    FIRST_DAY + datetime.timedelta(days=DAYS - 1))}),)]


# Scans of the shards of the GitHub facts' day partitions on a worker node (Citus hides shards from other sessions).
FACT_SHARD_SCANS = """
SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::BIGINT FROM pg_stat_user_tables
WHERE schemaname = 'gh_dim' AND relname ~ '^repo_activity_[0-9]{8}_[0-9]+$'"""


def _fact_shard_scans(cluster: dict) -> int:
    """FACT_SHARD_SCANS summed over the worker nodes of `cluster`."""
    dwh, _mara = db.session_databases()
    total = 0
    for number in (1, 2):
        connection = db.connect(dwh, ('127.0.0.1', _worker(cluster, number)[1]))
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute("SET citus.show_shards_for_app_name_prefixes = '*'")
                cursor.execute(FACT_SHARD_SCANS)
                total += cursor.fetchone()[0]
        finally:
            connection.close()
    return total


def test_members_of_a_removed_day_are_deleted_without_checking_each_against_the_facts(citus_cluster, tmp_path):
    # The coordinator's session_replication_role did not hold in Citus's sessions on the workers: there each deleted
    # repository was checked against every fact shard (a benchmark day: over 40 minutes, against 0.64 s on one node)
    generate(tmp_path, FIRST_DAY, DAYS, ROWS, ROWS, seed=5)
    assert_succeeded(run_etl(tmp_path, **ENV))
    scans_before = _fact_shard_scans(citus_cluster)
    assert scans_before > 0  # the query sees the shards
    data_sets.GITHUB.path(tmp_path, CHANGED_DAY, data_sets.GITHUB.versions[0]).unlink()
    result = run_etl(tmp_path, **ENV)
    assert_succeeded(result)
    repos = {(row['user'], row['repository']) for row in read_day_files(
        tmp_path, data_sets.GITHUB, FIRST_DAY, FIRST_DAY + datetime.timedelta(days=DAYS - 1))}
    assert db.query('SELECT count(*) FROM gh_dim.repo WHERE repo_id <> -1') == [(len(repos),)]
    deleted = int(re.search(r'gh_dim\.repo: (\d+) members deleted', output(result)).group(1))
    assert deleted > ROWS // 2, output(result)[-3000:]
    # Checks would have scanned every fact shard once per deleted member; the run scans each a few times
    assert _fact_shard_scans(citus_cluster) - scans_before < deleted
