"""The tests' one way to the project's PostgreSQL server: queries in this session's warehouse (the default), in its
mara database, or in any other database on the same server, and the databases that tests create for themselves."""

import contextlib
import functools
import os
import pathlib
import shutil
import subprocess
import tempfile

import psycopg2

from tests.support import cluster, commands


def connect(database: str | None = None, node: tuple[str, int] | None = None):
    """A connection to this session's warehouse database, or to `database` on the same server (or on its Citus
    worker `node`)."""
    import mara_db.dbs
    db = mara_db.dbs.db('dwh')
    host, port = node or (db.host, db.port)
    return psycopg2.connect(host=host, port=port, user=db.user, password=db.password, dbname=database or db.database)


@functools.cache
def worker_nodes() -> tuple[tuple[str, int], ...]:
    """The Citus worker nodes of the session's server: each holds a copy of every warehouse database."""
    return tuple(cluster.worker_nodes())


@functools.cache
def loads_citus() -> bool:
    """Whether the session's server loads Citus (then setup-db.sh creates it in every warehouse database)."""
    (libraries,), = query("SELECT current_setting('shared_preload_libraries')", database='postgres')
    return 'citus' in libraries.replace(' ', '').split(',')


def query(sql: str, params=None, database: str | None = None) -> list[tuple]:
    """All rows of `sql` (none for a statement), committed; in this session's warehouse, or in `database`."""
    connection = connect(database)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def mara_query(sql: str, params=None) -> list[tuple]:
    """`query` in this session's mara database (run log, users, incremental state)."""
    import mara_db.dbs
    return query(sql, params, database=mara_db.dbs.db('mara').database)


def autocommit(sql: str, database: str = 'postgres', node: tuple[str, int] | None = None) -> None:
    """Runs `sql` outside a transaction (CREATE and DROP DATABASE need that), by default in the `postgres` database."""
    connection = connect(database, node)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def drop_database(name: str) -> None:
    """Drops a database, on the Citus worker nodes too."""
    for node in (None, *worker_nodes()):
        autocommit(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', node=node)


def database_oids(*names: str) -> tuple:
    """The oids of databases: a database that was dropped and created again has another one."""
    return tuple(query('SELECT oid FROM pg_database WHERE datname = ANY (%s) ORDER BY datname', (list(names),),
                       database='postgres'))


# ---------------------------------------------------------------- databases of this session, and of tests

def setup_databases(**env: str) -> subprocess.CompletedProcess:
    """The project's own setup script (.scripts/setup-db.sh), for this session's databases or those named in `env`
    (DWH_DB, MARA_DB)."""
    return commands.script('setup-db.sh', env=env, timeout=300)


def set_up(**env: str) -> None:
    result = setup_databases(**env)
    assert result.returncode == 0, result.stdout + result.stderr


def session_databases() -> tuple[str, str]:
    """The names of this session's dwh and mara databases."""
    from app import config
    return config.dwh_db(), config.mara_db()


def drop_session_databases() -> None:
    for name in session_databases():
        drop_database(name)


def reset_databases() -> None:
    """Fresh dwh and mara databases of this test session (warehouse and run log)."""
    drop_session_databases()
    set_up()


@contextlib.contextmanager
def databases_of_their_own(name: str):
    """A dwh and a mara database of their own (`<name>_dwh`, `<name>_mara`), set up by the project's script, for
    builds beside this session's warehouse (even at the same time: the run lock is per mara database).
    Yields the environment that points a run at them; drops them at the end."""
    env = {'DWH_DB': f'{name}_dwh', 'MARA_DB': f'{name}_mara'}
    for database in env.values():
        drop_database(database)
    set_up(**env)
    try:
        yield env
    finally:
        for database in env.values():
            drop_database(database)


def empty_warehouse(database: str) -> None:
    """Makes `database` an empty warehouse database again (with hll), as setup-db.sh leaves it: on a Citus server
    by that script (the extensions and worker nodes), otherwise directly, which is faster."""
    drop_database(database)
    if loads_citus():
        result = commands.script('setup-db.sh', '--warehouse', env={'DWH_DB': database}, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return
    autocommit(f'CREATE DATABASE "{database}"')
    query('CREATE EXTENSION hll', database=database)


@contextlib.contextmanager
def scratch_database(name: str):
    """An empty warehouse database (with hll) of its own, dropped at the end."""
    empty_warehouse(name)
    try:
        yield name
    finally:
        drop_database(name)


# ---------------------------------------------------------------- clusters of tests' own

@contextlib.contextmanager
def cluster_of_its_own(citus_workers: int = 0):
    """Yields the settings of a throw-away project-local cluster for .scripts/postgres.sh (POSTGRES_LOCAL_DIR: a
    folder of its own below /tmp, which the postgres OS user can reach; free ports), so that a test that stops
    its server never stops the developer's. With `citus_workers`, `postgres.sh citus` makes it a Citus coordinator
    with that many worker clusters (on the ports after the coordinator's). Stopped and removed at the end."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix='mara-test-cluster-', dir='/tmp'))
    os.chmod(directory, 0o755)
    env = {'POSTGRES_LOCAL_DIR': str(directory / 'pg'), 'POSTGRES_PORT': str(cluster.free_ports(citus_workers + 1)),
           'POSTGRES_HOST': '', 'CITUS_WORKERS': str(citus_workers)}
    try:
        yield env
    finally:
        commands.script('postgres.sh', 'stop', env=env)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def sessions_on(cluster: dict, monkeypatch):
    """Points mara's settings and every program the test starts at `cluster` (settings of `cluster_of_its_own`,
    started), with this session's databases set up on it; back to the session's server at the end."""
    import mara_db.dbs
    for name, value in cluster.items():
        monkeypatch.setenv(name, value)
    mara_db.dbs.db.cache_clear()  # mara's database settings, read again with the cluster's port
    try:
        set_up()
        yield
    finally:
        mara_db.dbs.db.cache_clear()
        monkeypatch.undo()
        mara_db.dbs.db.cache_clear()
