"""Shared fixtures: a real PostgreSQL (started by `make start-db`), databases of this test session, the Flask app,
its test client and CLI runner, the warehouse of the standard sample, and a run of the utils pipeline.

Each pytest process works in its own pair of databases (test_dwh_<pid>, test_mara_<pid>), its own DATA_DIR and
its own temporary directory, so test runs never touch the development warehouse or each other. Everything that
the session and the programs it starts write to temporary files (pytest's tmp_path, gunicorn's logs, Chromium's
profiles, tmux's sockets, the runs' live logs) goes below that directory, which is removed at the end.
"""

import atexit
import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

# One temporary directory for the session; TMPDIR and TMUX_TMPDIR lead the programs it starts there too.
SESSION_TMP = tempfile.mkdtemp(prefix=f'mara-test-{os.getpid()}-')
tempfile.tempdir = SESSION_TMP  # pytest's own temporary files, and tmp_path, go there as well
atexit.register(shutil.rmtree, SESSION_TMP, ignore_errors=True)

# Settings for the whole session, before `app` is imported anywhere.
SESSION_DATABASES = {'DWH_DB': f'test_dwh_{os.getpid()}', 'MARA_DB': f'test_mara_{os.getpid()}'}
os.environ.update({
    'TMPDIR': SESSION_TMP,
    'TMUX_TMPDIR': SESSION_TMP,
    **SESSION_DATABASES,
    'DATA_DIR': tempfile.mkdtemp(prefix='data-'),
    'FIRST_DATE': '2018-04-01',
    'LAST_DATE': '2018-04-30',
    'ALLOW_RUN_FROM_WEB_UI': 'true',
    'BIGQUERY_API_ENDPOINT': '',
    'RUN_LOG_DIR': tempfile.mkdtemp(prefix='runs-'),  # the live logs of the session's runs
})
os.environ.pop('GOOGLE_APPLICATION_CREDENTIALS', None)

from tests.support import cluster  # noqa: E402

cluster.start()  # TEST_CLUSTER=citus or citus-workers: clusters of the session's own (tests/support/cluster.py)

from tests.support import commands, db, warehouse  # noqa: E402  (after the settings)


def pytest_collection_modifyitems(config, items):
    """Tests of worker nodes belong to the sessions that have them (`make test` runs one): elsewhere they are
    deselected, not skipped."""
    if cluster.mode() == 'citus-workers':
        return
    deselected = [item for item in items if item.get_closest_marker('citus_workers')]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker('citus_workers')]


@pytest.fixture(scope='session')
def databases():
    """This session's dwh and mara databases, created by .scripts/setup-db.sh and dropped at the end."""
    from app import config
    ready = subprocess.run(['pg_isready', '-h', config.postgres_host() or '127.0.0.1',
                            '-p', str(config.postgres_port())], capture_output=True)
    if ready.returncode:
        pytest.exit('PostgreSQL does not answer: run `make start-db` (or `make test`, which starts it)', 2)
    db.drop_session_databases()
    # Dropped at exit rather than at teardown: runs started in this process close their
    # run-log rows in mara's own atexit handler, which must still find the mara database.
    atexit.register(db.drop_session_databases)
    db.set_up()


@pytest.fixture
def fresh_databases(databases):
    """Empty dwh and mara databases for one test (warehouse and incremental state both reset)."""
    db.reset_databases()
    yield


@pytest.fixture
def data_dir(monkeypatch, tmp_path) -> pathlib.Path:
    """An empty DATA_DIR for one test."""
    path = tmp_path / 'data'
    path.mkdir()
    monkeypatch.setenv('DATA_DIR', str(path))
    return path


@pytest.fixture(autouse=True)
def _fresh_root_pipeline():
    """Settings may change between tests: rebuild the root pipeline each time."""
    from app import pipelines
    pipelines.root_pipeline.cache_clear()
    yield
    pipelines.root_pipeline.cache_clear()


@pytest.fixture(scope='session')
def app(databases):
    from app.app import app as flask_app
    flask_app.config.update(TESTING=True)
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def flask_cli(databases):
    """Runs `flask --app app.app ARGS` in a subprocess with this session's settings, changed by `env`."""
    def run(*args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
        return commands.flask(*args, timeout=timeout, env=env)
    return run


@pytest.fixture
def dwh(databases):
    """`tests.support.db.query`: a query in this session's dwh database, all rows."""
    return db.query


@pytest.fixture
def mara_db_query(databases):
    """`tests.support.db.mara_query`: a query in this session's mara database (run logs, users, incremental
    state), all rows."""
    return db.mara_query


@dataclasses.dataclass(frozen=True)
class ScratchDatabase:
    name: str

    @property
    def env(self) -> dict:
        """The setting that points a command at it."""
        return {'DWH_DB': self.name}

    def query(self, sql: str, params=None) -> list[tuple]:
        return db.query(sql, params, database=self.name)


@pytest.fixture
def scratch_dwh(databases):
    """An empty warehouse database of its own for one test (with hll; the mara database stays the session's), for
    runs that must not disturb the session's warehouse."""
    with db.scratch_database(f'test_scratch_{os.getpid()}') as name:
        yield ScratchDatabase(name)


_utils_runs = {}


@pytest.fixture
def utils_run(databases) -> int:
    """The id of a run of the `utils` pipeline (the util functions, the time dimension of FIRST_DATE..LAST_DATE) in
    this session's databases. One run serves the whole session: it runs again only when a test has replaced the
    databases since (a database made anew has another oid). It runs in the session's databases whatever a test
    set DWH_DB or MARA_DB to."""
    key = db.database_oids(*SESSION_DATABASES.values())
    if key not in _utils_runs:
        result = commands.flask('mara-pipelines', 'run', '--path', 'utils', '--disable-colors', env=SESSION_DATABASES)
        assert result.returncode == 0, warehouse.output(result)
        (_utils_runs[key],), = db.query(
            "SELECT max(run_id) FROM data_integration_run WHERE node_path = '{utils}' AND succeeded",
            database=SESSION_DATABASES['MARA_DB'])
    return _utils_runs[key]


@pytest.fixture(scope='session')
def standard_warehouse(databases, tmp_path_factory) -> warehouse.Warehouse:
    """The warehouse that read-only tests share: built once per session from the sample that `make` generates on a
    fresh clone, in databases of its own that no test resets. Tests must not run pipelines in it: those that do
    build a warehouse of their own (`warehouse.built_from_sample`)."""
    with warehouse.built_from_sample(f'test_standard_{os.getpid()}', tmp_path_factory.mktemp('standard-sample')) \
            as built:
        yield built
