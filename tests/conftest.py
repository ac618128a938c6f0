"""Shared fixtures: a real PostgreSQL (started by `make start-db`), databases of this test session,
the Flask app, its test client and CLI runner, and helpers to run the flask CLI and query the dwh.

Each pytest process works in its own pair of databases (test_dwh_<pid>, test_mara_<pid>) and its
own DATA_DIR, so test runs never touch the development warehouse or each other.
"""

import atexit
import dataclasses
import datetime
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
_SESSION = f'{os.getpid()}'

# Settings for the whole session, before `app` is imported anywhere.
os.environ.update({
    'DWH_DB': f'test_dwh_{_SESSION}',
    'MARA_DB': f'test_mara_{_SESSION}',
    'DATA_DIR': tempfile.mkdtemp(prefix='mara-test-data-'),
    'FIRST_DATE': '2018-04-01',
    'LAST_DATE': '2018-04-30',
    'ALLOW_RUN_FROM_WEB_UI': 'true',
    'BIGQUERY_API_ENDPOINT': '',
    'RUN_LOG_DIR': tempfile.mkdtemp(prefix='mara-test-runs-'),  # the live logs of the session's runs
})
atexit.register(shutil.rmtree, os.environ['RUN_LOG_DIR'], ignore_errors=True)
os.environ.pop('GOOGLE_APPLICATION_CREDENTIALS', None)
sys.path.insert(0, str(PROJECT_ROOT))


def _psql(database: str, sql: str) -> str:
    from app import config
    env = dict(os.environ, PGHOST=config.postgres_host() or '127.0.0.1', PGPORT=str(config.postgres_port()),
               PGUSER=config.postgres_user(), PGPASSWORD=config.postgres_password())
    result = subprocess.run(['psql', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-tA', '-d', database, '-c', sql],
                            env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f'psql failed: {result.stderr}')
    return result.stdout


def drop_databases() -> None:
    from app import config
    for name in (config.dwh_db(), config.mara_db()):
        _psql('postgres', f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_databases() -> subprocess.CompletedProcess:
    """Runs the project's own setup script against this session's database names."""
    return subprocess.run(['bash', str(PROJECT_ROOT / '.scripts' / 'setup-db.sh')], cwd=PROJECT_ROOT,
                          capture_output=True, text=True)


@pytest.fixture(scope='session')
def databases():
    """This session's dwh and mara databases, created by .scripts/setup-db.sh and dropped at the end."""
    from app import config
    ready = subprocess.run(['pg_isready', '-h', config.postgres_host() or '127.0.0.1',
                            '-p', str(config.postgres_port())], capture_output=True)
    if ready.returncode:
        pytest.exit('PostgreSQL does not answer: run `make start-db` (or `make test`, which starts it)', 2)
    drop_databases()
    # Dropped at exit rather than at teardown: runs started in this process close their
    # run-log rows in mara's own atexit handler, which must still find the mara database.
    atexit.register(drop_databases)
    result = setup_databases()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def fresh_databases(databases):
    """Empty dwh and mara databases for one test (warehouse and incremental state both reset)."""
    drop_databases()
    result = setup_databases()
    assert result.returncode == 0, result.stdout + result.stderr
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
    """Runs `flask --app app.app ARGS` in a subprocess with this session's settings."""
    def run(*args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app', *args],
                              cwd=PROJECT_ROOT, env=dict(os.environ, **env), capture_output=True, text=True,
                              timeout=timeout)
    return run


@pytest.fixture
def dwh(databases):
    """Runs a query in this session's dwh database and returns all rows."""
    import mara_db.dbs

    def query(sql: str, params=None) -> list[tuple]:
        with mara_db.dbs.cursor_context('dwh') as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    return query


@pytest.fixture
def mara_db_query(databases):
    """Runs a query in this session's mara database (run logs, incremental state) and returns all rows."""
    import mara_db.dbs

    def query(sql: str, params=None) -> list[tuple]:
        with mara_db.dbs.cursor_context('mara') as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    return query


@pytest.fixture
def scratch_dwh(databases):
    """An empty warehouse database of its own (DWH_DB for flask_cli) and a query function for it,
    for tests that must not disturb the session's warehouse."""
    import mara_db.dbs
    import psycopg2

    name = f'test_scratch_{_SESSION}'
    _psql('postgres', f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql('postgres', f'CREATE DATABASE "{name}"')
    _psql(name, 'CREATE EXTENSION hll')
    db = mara_db.dbs.db('dwh')

    def query(sql: str) -> list[tuple]:
        with psycopg2.connect(host=db.host, port=db.port, user=db.user, password=db.password,
                              dbname=name) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        connection.close()
        return rows
    yield name, query
    _psql('postgres', f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- the warehouse of the standard sample

@dataclasses.dataclass(frozen=True)
class Warehouse:
    """The warehouse that read-only tests share: built once per session from the sample that `make` generates
    on a fresh clone, in databases of its own that no other test resets."""
    data_dir: pathlib.Path
    env: dict  # DWH_DB and MARA_DB of its databases
    first_day: datetime.date
    last_day: datetime.date
    output: str  # of the run that built it

    def query(self, sql: str, params=None) -> list[tuple]:
        from tests.support.warehouse import query
        return query(sql, params, database=self.env['DWH_DB'])


@pytest.fixture(scope='session')
def standard_warehouse(databases, tmp_path_factory) -> Warehouse:
    from app.sample_data import generator
    from tests.support import warehouse
    data_dir = tmp_path_factory.mktemp('standard-sample')
    generated = subprocess.run([str(warehouse.PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app',
                                'sample-data', 'generate', '--data-dir', str(data_dir)],
                               cwd=warehouse.PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    with warehouse.databases_of_their_own(f'test_standard_{os.getpid()}') as env:
        result = warehouse.run_etl(data_dir, **env)
        warehouse.assert_succeeded(result)
        last_day = generator.DEFAULT_FIRST_DAY + datetime.timedelta(days=generator.DEFAULT_DAYS - 1)
        yield Warehouse(data_dir, env, generator.DEFAULT_FIRST_DAY, last_day, warehouse.output(result))
