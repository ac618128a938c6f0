"""The project's PostgreSQL scripts: setup is idempotent, a stopped cluster starts again, clear errors."""

import os
import pathlib
import socket
import subprocess

import pytest

from app import config
from tests.support import commands
from tests.support.db import cluster_of_its_own, setup_databases
from tests.support.servers import free_port


def _script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return commands.script(name, *args, env=env)


def _catalog(dwh, mara_db_query) -> dict:
    return {
        'databases': dwh("SELECT datname FROM pg_database WHERE datname LIKE 'test_%%' ORDER BY 1"),
        'extensions': dwh('SELECT extname FROM pg_extension ORDER BY 1'),
        'mara_tables': mara_db_query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"),
    }


def test_mara_tables_exist(mara_db_query):
    assert {'data_integration_run', 'data_integration_node_run', 'data_integration_node_output',
            'data_integration_processed_file', 'data_integration_file_dependency', 'acl_user',
            'acl_permission'} <= {name for (name,) in mara_db_query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_hll_extension_is_installed(dwh):
    assert dwh("SELECT hll_cardinality(hll_add_agg(hll_hash_integer(n)))::INT FROM generate_series(1, 1000) n") \
        == [(1000,)]


def test_setup_twice_changes_nothing(databases, dwh, mara_db_query):
    before = _catalog(dwh, mara_db_query)
    result = setup_databases()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"==> Databases {os.environ['DWH_DB']} {os.environ['MARA_DB']} exist"
    assert _catalog(dwh, mara_db_query) == before


def test_start_when_running_is_a_no_op():
    result = _script('postgres.sh', 'start')
    assert result.returncode == 0, result.stderr
    expected = 'Using the existing PostgreSQL server' if config.postgres_host() else 'PostgreSQL is already running'
    assert expected in result.stdout, result.stdout


@pytest.fixture
def second_cluster():
    """Settings for a second, throw-away local cluster (the shared one is never stopped by tests)."""
    with cluster_of_its_own() as env:
        yield env


def test_a_stopped_cluster_is_started_again(second_cluster):
    first = _script('postgres.sh', 'start', **second_cluster)
    assert first.returncode == 0, first.stderr
    assert 'Creating a PostgreSQL cluster' in first.stdout
    data = pathlib.Path(second_cluster['POSTGRES_LOCAL_DIR']) / 'data'
    assert _script('postgres.sh', 'stop', **second_cluster).stdout.strip() == f'==> PostgreSQL stopped ({data})'
    assert _script('postgres.sh', 'status', **second_cluster).returncode != 0
    again = _script('postgres.sh', 'start', **second_cluster)
    assert again.returncode == 0, again.stderr
    assert 'Creating a PostgreSQL cluster' not in again.stdout
    assert again.stdout.strip().startswith(f"==> Starting PostgreSQL on 127.0.0.1:{second_cluster['POSTGRES_PORT']}")
    assert _script('postgres.sh', 'status', **second_cluster).returncode == 0


def test_a_taken_port_gives_a_clear_error(second_cluster):
    with socket.socket() as blocker:
        blocker.bind(('127.0.0.1', 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = _script('postgres.sh', 'start', **dict(second_cluster, POSTGRES_PORT=str(port)))
    assert result.returncode == 1
    assert f'ERROR: port {port} is taken by another program' in result.stderr
    assert 'set POSTGRES_PORT to a free port' in result.stderr


def test_an_unreachable_external_server_gives_a_clear_error():
    port = free_port()
    result = _script('setup-db.sh', POSTGRES_HOST='127.0.0.1', POSTGRES_PORT=str(port), PGCONNECT_TIMEOUT='2')
    assert result.returncode == 1
    assert f'ERROR: PostgreSQL does not answer at 127.0.0.1:{port}' in result.stderr
