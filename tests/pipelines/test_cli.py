"""The flask CLI as production uses it: exit codes, progress output, and mara's run log of every run.

Runs that rebuild the time dimension go to a scratch dwh database: publishing `time` drops the other star
schemas' foreign keys to it, and the session warehouse must stay whole for the other tests.
"""

import os
import re
import subprocess

import pytest

from app.pipelines import cli as pipelines_cli
from app.pipelines import root_pipeline
from tests.run_control import run_lock_held
from tests.servers import PROJECT_ROOT, last_run_id, warehouse_on_sample_data


@pytest.fixture(scope='module')
def warehouse(databases):
    return warehouse_on_sample_data()


@pytest.fixture(scope='module')
def scratch_dwh(databases):
    """{'DWH_DB': name} of an extra, empty dwh database for this module (the mara db stays the session's)."""
    name = f'{os.environ["DWH_DB"]}_cli_scratch'
    _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    yield {'DWH_DB': name}
    _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres(*statements: str) -> None:
    """Runs statements in the server's `postgres` database, outside a transaction (CREATE DATABASE needs that)."""
    import mara_db.dbs
    server = mara_db.dbs.db('mara')
    connection = mara_db.dbs.connect(mara_db.dbs.PostgreSQLDB(host=server.host, port=server.port, user=server.user,
                                                              password=server.password, database='postgres'))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def _runs_since(mara_db_query, run_id: int) -> list:
    return mara_db_query('SELECT run_id, node_path, succeeded FROM data_integration_run WHERE run_id > %s '
                         'ORDER BY run_id', (run_id,))


def _node_runs(mara_db_query, run_id: int) -> dict:
    """{'a/b': succeeded} of every node run of a run."""
    rows = mara_db_query('SELECT node_path, succeeded FROM data_integration_node_run WHERE run_id = %s', (run_id,))
    return {'/'.join(path): succeeded for path, succeeded in rows}


def _tasks(node, path=()) -> list:
    """Paths of all tasks below a node, as mara records them ('pypi/create_pypi_dim_next')."""
    paths = []
    for child in getattr(node, 'nodes', {}).values():
        if hasattr(child, 'nodes'):
            paths += _tasks(child, (*path, child.id))
        elif type(child).__name__ == 'Task':  # parallel tasks are replaced by sub pipelines at run time
            paths.append('/'.join((*path, child.id)))
    return paths


def test_the_original_names_are_aliases_with_the_same_options(runner):
    from mara_pipelines import cli as mara_cli
    originals = {'data_integration.ui.run': mara_cli.run,
                 'data_integration.ui.run_interactively': mara_cli.run_interactively,
                 'data_integration.ui.reset_incremental_processing': mara_cli.reset_incremental_processing}
    for name, original in originals.items():
        alias = pipelines_cli.CLICK_COMMANDS[name]
        assert [param.opts for param in alias.params] == [param.opts for param in original.params], name
        result = runner.invoke(args=[name, '--help'])
        assert result.exit_code == 0, result.output
    listing = runner.invoke(args=['--help']).output
    assert all(name in listing for name in originals)


def test_the_root_pipeline_run_is_recorded_with_every_node(warehouse, mara_db_query):
    (node_path, succeeded), = mara_db_query('SELECT node_path, succeeded FROM data_integration_run WHERE run_id = %s',
                                            (warehouse['run_id'],))
    assert (node_path, succeeded) == ([], True)
    node_runs = _node_runs(mara_db_query, warehouse['run_id'])
    root = root_pipeline()
    expected = [''] + list(root.nodes) + _tasks(root)
    assert all(node_runs.get(path) is True for path in expected), {path: node_runs.get(path) for path in expected}


def test_long_runs_show_progress_per_node(warehouse):
    """Each task announces its start (with the expected duration) and its end, with its path."""
    output = warehouse['output']
    for path in _tasks(root_pipeline()):
        prefix = re.escape(path.replace('/', ' / ')) + ':'
        assert re.search(rf'^{prefix} ★ ', output, re.MULTILINE), path
        assert re.search(rf'^{prefix} succeeded, +\d+ seconds?$', output, re.MULTILINE), path
    assert re.search(r'^ succeeded, \d+ seconds?$', output, re.MULTILINE)  # the root pipeline
    summary = output.rstrip('\n').split('\n')[-2:]
    succeeded = re.fullmatch(r' Run succeeded: (\d+) of \1 tasks succeeded\.', summary[0])
    assert succeeded and int(succeeded[1]) >= len(_tasks(root_pipeline())), summary  # and the parallel tasks
    assert summary[1] == ' succeeded: the root pipeline'


def test_one_pipeline_with_the_alias(flask_cli, mara_db_query, scratch_dwh):
    before = last_run_id()
    result = flask_cli('data_integration.ui.run', '--path', 'utils', '--disable-colors', **scratch_dwh)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_id, node_path, succeeded), = _runs_since(mara_db_query, before)
    assert (node_path, succeeded) == (['utils'], True)
    assert _node_runs(mara_db_query, run_id) == {'utils': True, 'utils/initialize_utils': True,
                                                 'utils/create_time_dimension': True}


@pytest.mark.parametrize('with_upstreams', [False, True])
def test_selected_nodes_with_and_without_upstreams(flask_cli, mara_db_query, scratch_dwh, with_upstreams):
    before = last_run_id()
    result = flask_cli('mara-pipelines', 'run', '--path', 'utils', '--nodes', 'create_time_dimension',
                       *(['--with_upstreams'] if with_upstreams else []), '--disable-colors', **scratch_dwh)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_id, _, succeeded), = _runs_since(mara_db_query, before)
    expected = {'utils/create_time_dimension': True}
    if with_upstreams:
        expected['utils/initialize_utils'] = True
    assert succeeded and _node_runs(mara_db_query, run_id) == expected


def test_a_failed_run_exits_non_zero_and_names_the_failed_node(flask_cli, mara_db_query):
    before = last_run_id()
    result = flask_cli('data_integration.ui.run', '--path', 'utils', '--disable-colors', DWH_DB='no_such_database')
    assert result.returncode != 0
    assert result.stdout.rstrip().split('\n')[-3:] == [
        'utils: Run failed: 0 of 2 tasks succeeded, 1 failed, 1 skipped.', 'utils: failed: utils / initialize_utils',
        'utils: skipped: utils / create_time_dimension']
    assert 'database "no_such_database" does not exist' in result.stdout
    (run_id, _, succeeded), = _runs_since(mara_db_query, before)
    assert succeeded is False
    assert _node_runs(mara_db_query, run_id) == {'utils': False, 'utils/initialize_utils': False}


def test_a_run_is_refused_while_another_one_runs(flask_cli, mara_db_query):
    """Another process holds the run lock (as a running run does): no second run, a clear message, exit 1."""
    with run_lock_held():
        before = last_run_id()
        result = flask_cli('mara-pipelines', 'run', '--path', 'utils', '--disable-colors')
    assert result.returncode != 0
    assert 'utils: Not started, because another run is in progress' in result.stdout
    assert _runs_since(mara_db_query, before) == []


def test_unknown_pipeline_or_node_exits_non_zero(flask_cli):
    assert flask_cli('mara-pipelines', 'run', '--path', 'no_such_pipeline').returncode != 0
    result = flask_cli('data_integration.ui.run', '--path', 'utils', '--nodes', 'no_such_node')
    assert result.returncode != 0 and 'Node "no_such_node" not found' in result.stderr


def test_a_full_rebuild_reads_every_file_again(warehouse, flask_cli):
    unchanged = flask_cli('mara-pipelines', 'run', '--path', 'pypi', '--disable-colors')
    assert unchanged.returncode == 0, unchanged.stdout[-3000:]
    assert '0 new days, 0 changed, 0 taken out, 10 unchanged' in unchanged.stdout
    rebuilt = flask_cli('mara-pipelines', 'run', '--path', 'pypi', '--disable-colors', FULL_REBUILD='true')
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert 'Full build (FULL_REBUILD is set): 10 days of ' in rebuilt.stdout
    assert 'pypi_dim: replaced by a full build' in rebuilt.stdout


def test_make_run_etl_uses_a_command_that_exits_non_zero_on_failure():
    """The Makefile's run-etl target is the production command."""
    target = subprocess.run(['make', '-n', 'run-etl'], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            check=True).stdout
    assert re.search(r'flask --app app\.app (mara-pipelines run|data_integration\.ui\.run)\b', target), target
