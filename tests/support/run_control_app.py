"""The project's flask app with a small root pipeline of its own, for the tests of run control.

Everything is the real app (`flask --app tests.support.run_control_app ...`, gunicorn
`tests.support.run_control_app:wsgi_app`) except the root pipeline, whose nodes these tests own (the warehouse
pipelines change under them). Its tasks are real processes: bash and psql. What they do is steered through files
in RUN_CONTROL_DIR:

    run_control
    ├── slow              start ──> wait ──> finish
    │                     (start creates the schema rc_slow_next in the warehouse, wait sleeps in the database
    │                      for as many seconds as the file `seconds` says, finish drops rc_slow_next)
    ├── flaky             first ──> breaks ──> blocked      independent
    │                     (breaks fails while the file `broken` exists)
    └── report            summarize  (downstream of flaky)
"""

import functools
import os
import pathlib

import mara_app.app
from mara_app.monkey_patch import patch
from mara_pipelines import config as mara_config
from mara_pipelines import pipelines
from mara_pipelines.commands.bash import RunBash
from mara_pipelines.commands.sql import ExecuteSQL

from app import cli, ui  # noqa: F401  (ui: the project's pages and their blueprints)
from app.runs import background

CONTROL_DIR = 'RUN_CONTROL_DIR'
SCHEMA = 'rc_slow_next'


def control_file(name: str) -> pathlib.Path:
    return pathlib.Path(os.environ[CONTROL_DIR]) / name


def _seconds() -> str:
    file = control_file('seconds')
    return file.read_text().strip() if file.exists() else '0'


def _task(task_id: str, description: str, command) -> pipelines.Task:
    return pipelines.Task(id=task_id, description=description, commands=[command])


@functools.cache
def root_pipeline() -> pipelines.Pipeline:
    root = pipelines.Pipeline(id='run_control', description='A small pipeline for testing run control.',
                              base_path=pathlib.Path(__file__).parent)

    slow = pipelines.Pipeline(id='slow', description='Builds a schema slowly.')
    slow.add(_task('start', 'Creates the schema rc_slow_next.',
                   ExecuteSQL(sql_statement=f'CREATE SCHEMA IF NOT EXISTS {SCHEMA}')))
    slow.add(_task('wait', 'Sleeps in the database for as many seconds as the file `seconds` says.',
                   ExecuteSQL(sql_statement=lambda: f'SELECT pg_sleep({_seconds()})')), ['start'])
    slow.add(_task('finish', 'Drops the schema rc_slow_next.', ExecuteSQL(sql_statement=f'DROP SCHEMA {SCHEMA}')),
             ['wait'])
    root.add(slow)

    flaky = pipelines.Pipeline(id='flaky', description='Fails while the file `broken` exists.')
    flaky.add(_task('first', 'Succeeds after a second (long enough for system statistics).',
                    RunBash('sleep 1; echo first')))
    flaky.add(_task('breaks', 'Fails while the file `broken` exists.',
                    RunBash(f'test ! -e "${CONTROL_DIR}/broken" || {{ echo broken >&2; exit 1; }}')), ['first'])
    flaky.add(_task('blocked', 'Runs after breaks.', RunBash('echo blocked')), ['breaks'])
    flaky.add(_task('independent', 'Depends on nothing.', RunBash('echo independent')))
    root.add(flaky)

    report = pipelines.Pipeline(id='report', description='Needs flaky.')
    report.add(_task('summarize', 'Runs after flaky.', RunBash('echo summarize')))
    root.add(report, ['flaky'])
    return root


patch(mara_config.root_pipeline)(root_pipeline)
background.use_app(__name__)

app = mara_app.app.MaraApp()
cli.register_commands(app)
wsgi_app = app.wsgi_app
