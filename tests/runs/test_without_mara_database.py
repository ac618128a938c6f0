"""Run control is for runs with a mara database (its lock, its run log). A caller without one, as mara-pipelines'
own tests, runs pipelines with mara's execution as it is: no lock, no run record, mara's events."""

import mara_db.config
import mara_db.dbs
import pytest
from mara_pipelines import cli as mara_cli
from mara_pipelines.commands.python import RunFunction
from mara_pipelines.pipelines import Pipeline, Task

import app  # noqa: F401  (run control installed)


@pytest.fixture
def no_mara_database(monkeypatch):
    """mara's database settings without any database, as a process that uses mara-pipelines alone has them."""
    monkeypatch.setattr(mara_db.config, 'databases', lambda: {})
    mara_db.dbs.db.cache_clear()
    yield
    mara_db.dbs.db.cache_clear()


def _pipeline(succeeds: bool) -> Pipeline:
    pipeline = Pipeline(id='without_mara_db', description='Runs without a mara database.')
    pipeline.add(Task(id='function', description='Succeeds or fails.', commands=[RunFunction(lambda: succeeds)]))
    return pipeline


@pytest.mark.parametrize('succeeds', [True, False])
def test_a_run_without_a_mara_database_is_mara_s_own(no_mara_database, capsys, succeeds):
    assert mara_cli.run_pipeline(_pipeline(succeeds), disable_colors=True) is succeeds
    output = capsys.readouterr().out
    assert 'not configured' not in output
    assert 'follow it at /runs/' not in output and ' tasks succeeded' not in output  # no run control
    assert ('function: succeeded' if succeeds else 'function: failed') in output
