"""Settings are read when a run starts: a long-lived process (the web UI, the ncurses runner) that built its
pipelines days ago still processes up to yesterday, and uses settings changed since."""

import datetime
import types

import pytest

import app.config
from app import data_sets
from app.sample_data import generate
from tests.support.db import query, reset_databases

FIRST_DAY = datetime.date(2018, 4, 1)


def run_in_this_process(pipeline) -> bool:
    """Runs a pipeline as the web UI and the ncurses runner do: with mara's execution, in this process."""
    from mara_pipelines import execution
    from mara_pipelines.logging import pipeline_events
    finished = [event for event in execution.run_pipeline(pipeline)
                if isinstance(event, pipeline_events.RunFinished)]
    return finished[-1].succeeded


def published_days() -> list[int]:
    return [row[0] for row in query('SELECT day_id FROM pypi_data.published_day ORDER BY 1')]


@pytest.fixture
def clock(monkeypatch):
    """Sets today's date as app.config sees it (LAST_DATE defaults to yesterday)."""
    def set_today(day: datetime.date) -> None:
        class Date(datetime.date):
            @classmethod
            def today(cls):
                return cls(day.year, day.month, day.day)
        monkeypatch.setattr(app.config, 'datetime', types.SimpleNamespace(date=Date, timedelta=datetime.timedelta))
    return set_today


def test_a_process_that_outlives_midnight_processes_the_new_day(databases, tmp_path, monkeypatch, clock):
    from app.pipelines import root_pipeline
    generate(tmp_path, FIRST_DAY, 4, 200, 200, seed=2)
    monkeypatch.setenv('DATA_DIR', str(tmp_path))
    monkeypatch.setenv('FIRST_DATE', f'{FIRST_DAY}')
    monkeypatch.delenv('LAST_DATE')
    reset_databases()

    clock(datetime.date(2018, 4, 3))  # the process starts: LAST_DATE is 2018-04-02
    pipeline = root_pipeline()
    assert run_in_this_process(pipeline)
    assert published_days() == [20180401, 20180402]
    assert query('SELECT max(day_id) FROM time.day') == [(20180402,)]

    clock(datetime.date(2018, 4, 4))  # a day later, the same process and the same pipeline object
    assert root_pipeline() is pipeline
    assert run_in_this_process(pipeline)
    assert published_days() == [20180401, 20180402, 20180403]
    assert query('SELECT max(day_id) FROM time.day') == [(20180403,)]
    assert query('SELECT count(*) FROM pp_dim.python_project_activity WHERE day_fk = 20180403')[0][0] > 0

    # a setting changed meanwhile applies to the next run too
    monkeypatch.setenv('FIRST_DATE', '2018-04-02')
    assert run_in_this_process(pipeline)
    assert published_days() == [20180402, 20180403]
    assert query('SELECT min(day_id) FROM time.day') == [(20180402,)]
    assert data_sets.PYPI.path(tmp_path, FIRST_DAY).exists()
