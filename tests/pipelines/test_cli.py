"""The flask CLI as production uses it: exit codes, progress output, and mara's run log of every run.

The root pipeline's run is the one that built the warehouse of the standard sample. Runs that rebuild the time
dimension go to a scratch dwh database: publishing `time` drops the other star schemas' foreign keys to it. A full
rebuild runs in a warehouse of its own.
"""

import os
import re
import subprocess

import pytest

from app.pipelines import cli as pipelines_cli
from app.pipelines import root_pipeline
from app.sample_data import generator
from tests.support import PROJECT_ROOT
from tests.support.run_control import last_run_id, node_runs, run_lock_held, runs_since
from tests.support.warehouse import built_from_sample


@pytest.fixture(scope='module')
def small_warehouse(databases, tmp_path_factory):
    """A warehouse of its own, from a small sample of the standard days, for runs that change it."""
    with built_from_sample('test_cli', tmp_path_factory.mktemp('cli-sample'),
                           '--pypi-rows', str(generator.MIN_ROWS), '--github-rows', str(generator.MIN_ROWS)) as built:
        yield built


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


def test_the_root_pipeline_run_is_recorded_with_every_node(standard_warehouse):
    (node_path, succeeded), = standard_warehouse.mara_query(
        'SELECT node_path, succeeded FROM data_integration_run WHERE run_id = %s', (standard_warehouse.run_id,))
    assert (node_path, succeeded) == ([], True)
    recorded = node_runs(standard_warehouse.run_id, standard_warehouse.env['MARA_DB'])
    root = root_pipeline()
    expected = [''] + list(root.nodes) + _tasks(root)
    assert all(recorded.get(path) is True for path in expected), {path: recorded.get(path) for path in expected}


def test_long_runs_show_progress_per_node(standard_warehouse):
    """Each task announces its start (with the expected duration) and its end, with its path."""
    output = standard_warehouse.output
    for path in _tasks(root_pipeline()):
        prefix = re.escape(path.replace('/', ' / ')) + ':'
        assert re.search(rf'^{prefix} ★ ', output, re.MULTILINE), path
        assert re.search(rf'^{prefix} succeeded, +\d+ seconds?$', output, re.MULTILINE), path
    assert re.search(r'^ succeeded, \d+ seconds?$', output, re.MULTILINE)  # the root pipeline
    summary = output.rstrip('\n').split('\n')[-2:]
    succeeded = re.fullmatch(r' Run succeeded: (\d+) of \1 tasks succeeded\.', summary[0])
    assert succeeded and int(succeeded[1]) >= len(_tasks(root_pipeline())), summary  # and the parallel tasks
    assert summary[1] == ' succeeded: the root pipeline'


def test_one_pipeline_with_the_alias(flask_cli, scratch_dwh):
    before = last_run_id()
    result = flask_cli('data_integration.ui.run', '--path', 'utils', '--disable-colors', **scratch_dwh.env)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_id, node_path, succeeded), = runs_since(before)
    assert (node_path, succeeded) == (['utils'], True)
    assert node_runs(run_id) == {'utils': True, 'utils/initialize_utils': True,
                                                 'utils/create_time_dimension': True}


@pytest.mark.parametrize('with_upstreams', [False, True])
def test_selected_nodes_with_and_without_upstreams(flask_cli, scratch_dwh, with_upstreams):
    if not with_upstreams:  # the time dimension needs the util functions
        assert flask_cli('mara-pipelines', 'run', '--path', 'utils', '--nodes', 'initialize_utils',
                         **scratch_dwh.env).returncode == 0
    before = last_run_id()
    result = flask_cli('mara-pipelines', 'run', '--path', 'utils', '--nodes', 'create_time_dimension',
                       *(['--with_upstreams'] if with_upstreams else []), '--disable-colors', **scratch_dwh.env)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_id, _, succeeded), = runs_since(before)
    expected = {'utils/create_time_dimension': True}
    if with_upstreams:
        expected['utils/initialize_utils'] = True
    assert succeeded and node_runs(run_id) == expected


def test_a_failed_run_exits_non_zero_and_names_the_failed_node(flask_cli):
    before = last_run_id()
    result = flask_cli('data_integration.ui.run', '--path', 'utils', '--disable-colors', DWH_DB='no_such_database')
    assert result.returncode != 0
    assert result.stdout.rstrip().split('\n')[-3:] == [
        'utils: Run failed: 0 of 2 tasks succeeded, 1 failed, 1 skipped.', 'utils: failed: utils / initialize_utils',
        'utils: skipped: utils / create_time_dimension']
    assert 'database "no_such_database" does not exist' in result.stdout
    (run_id, _, succeeded), = runs_since(before)
    assert succeeded is False
    assert node_runs(run_id) == {'utils': False, 'utils/initialize_utils': False}


def test_a_run_is_refused_while_another_one_runs(flask_cli):
    """Another process holds the run lock (as a running run does): no second run, a clear message, exit 1."""
    with run_lock_held():
        before = last_run_id()
        result = flask_cli('mara-pipelines', 'run', '--path', 'utils', '--disable-colors')
    assert result.returncode != 0
    assert 'utils: Not started, because another run is in progress' in result.stdout
    assert runs_since(before) == []


def test_unknown_pipeline_or_node_exits_non_zero(flask_cli):
    assert flask_cli('mara-pipelines', 'run', '--path', 'no_such_pipeline').returncode != 0
    result = flask_cli('data_integration.ui.run', '--path', 'utils', '--nodes', 'no_such_node')
    assert result.returncode != 0 and 'Node "no_such_node" not found' in result.stderr


def test_a_full_rebuild_reads_every_file_again(small_warehouse, flask_cli):
    unchanged = flask_cli('mara-pipelines', 'run', '--path', 'pypi', '--disable-colors', **small_warehouse.settings)
    assert unchanged.returncode == 0, unchanged.stdout[-3000:]
    assert '0 new days, 0 changed, 0 taken out, 10 unchanged' in unchanged.stdout
    rebuilt = flask_cli('mara-pipelines', 'run', '--path', 'pypi', '--disable-colors', FULL_REBUILD='true',
                        **small_warehouse.settings)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert 'Full build (FULL_REBUILD is set): 10 days of ' in rebuilt.stdout
    assert 'pypi_dim: replaced by a full build' in rebuilt.stdout


def test_make_run_etl_exits_non_zero_when_a_node_fails(databases):
    """The Makefile's run-etl target is the production command: a failed run fails `make run-etl`."""
    before = last_run_id()
    result = subprocess.run(['make', '--no-print-directory', 'run-etl'], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=300, env=dict(os.environ, DWH_DB='no_such_database'))
    output = re.sub(r'\x1b\[[0-9;]*m', '', result.stdout)  # the target prints in colour
    assert result.returncode != 0, output[-3000:]
    assert re.search(r'^ failed: utils / initialize_utils$', output, re.MULTILINE), output[-3000:]
    (_, node_path, succeeded), = runs_since(before)
    assert (node_path, succeeded) == ([], False)
