"""The project's record of each run, beside mara's `data_integration_run` (same run id): who or what started it,
its process, what it was to run, where its live log is, and how it ended. `flask mara-db migrate` creates it.
"""

import json
import os
import socket

import mara_db.dbs
import psutil
import psycopg2
import sqlalchemy
from mara_pipelines.logging import run_log
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import declarative_base

from app import config

Base = declarative_base()

# Outcomes of a run besides mara's succeeded / failed.
SUCCEEDED, FAILED, CANCELLED = 'succeeded', 'failed', 'cancelled'

# The errors of a lost connection to the mara database: the run stops, and the next run records it.
DATABASE_LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)


def first_line(error: Exception) -> str:
    return str(error).strip().split('\n')[0]


class RunRecord(Base):
    """A pipeline run as the project's run control sees it."""
    __tablename__ = 'app_run'

    run_id = sqlalchemy.Column(sqlalchemy.Integer, sqlalchemy.ForeignKey(run_log.Run.run_id, ondelete='CASCADE'),
                               primary_key=True)
    started_by = sqlalchemy.Column(sqlalchemy.TEXT, nullable=False)  # 'cron', 'web guest@localhost', ...
    host = sqlalchemy.Column(sqlalchemy.TEXT, nullable=False)
    pid = sqlalchemy.Column(sqlalchemy.Integer, nullable=False)  # of the supervising process
    process_started_at = sqlalchemy.Column(sqlalchemy.FLOAT, nullable=False)  # tells a reused pid from the run's
    application_name = sqlalchemy.Column(sqlalchemy.TEXT, nullable=False)  # of all its database sessions
    lock_backend_pid = sqlalchemy.Column(sqlalchemy.Integer, nullable=False)  # the session that holds the run lock
    node_ids = sqlalchemy.Column(postgresql.ARRAY(sqlalchemy.TEXT))  # the selected nodes; NULL: the whole pipeline
    with_upstreams = sqlalchemy.Column(sqlalchemy.BOOLEAN, nullable=False)
    rerun_of = sqlalchemy.Column(sqlalchemy.Integer)
    scope = sqlalchemy.Column(postgresql.ARRAY(sqlalchemy.TEXT), nullable=False)  # 'a/b' paths of all nodes to run
    log_file = sqlalchemy.Column(sqlalchemy.TEXT, nullable=False)
    outcome = sqlalchemy.Column(sqlalchemy.TEXT)  # succeeded, failed, cancelled; NULL while running
    reason = sqlalchemy.Column(sqlalchemy.TEXT)
    node_outcomes = sqlalchemy.Column(postgresql.JSONB)  # {'a/b': 'succeeded' | 'failed' | 'skipped' | 'not run'}
    cancel_requested_by = sqlalchemy.Column(sqlalchemy.TEXT)
    cancel_requested_at = sqlalchemy.Column(sqlalchemy.TIMESTAMP(timezone=True))
    recovered_at = sqlalchemy.Column(sqlalchemy.TIMESTAMP(timezone=True))  # closed by crash recovery


MARA_AUTOMIGRATE_SQLALCHEMY_MODELS = [RunRecord]

_RUN_COLUMNS = '''
r.run_id, r.node_path, r.start_time, r.end_time, r.succeeded, a.started_by, a.host, a.pid, a.process_started_at,
a.application_name, a.lock_backend_pid, a.node_ids, a.with_upstreams, a.rerun_of, a.scope, a.log_file,
a.outcome, a.reason, a.node_outcomes, a.cancel_requested_by, a.recovered_at'''
_RUNS = f'SELECT {_RUN_COLUMNS} FROM data_integration_run r LEFT JOIN app_run a USING (run_id)'


def this_process() -> dict:
    """host, pid and process_started_at of the current process."""
    return {'host': socket.gethostname(), 'pid': os.getpid(), 'process_started_at': psutil.Process().create_time()}


def process_is_alive(run: dict) -> bool:
    """Whether the supervising process of a run still runs (only known on its own host: else True)."""
    if run.get('host') != socket.gethostname():
        return True
    try:
        return abs(psutil.Process(run['pid']).create_time() - run['process_started_at']) < 1
    except (psutil.NoSuchProcess, TypeError):
        return False


def insert(cursor, run_id: int, **fields) -> None:
    columns = ['run_id', *fields]
    cursor.execute(f'INSERT INTO app_run ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})',
                   [run_id, *fields.values()])


def finish(cursor, run_id: int, outcome: str, reason: str | None, node_outcomes: dict,
           recovered: bool = False) -> None:
    cursor.execute('UPDATE app_run SET outcome = %s, reason = %s, node_outcomes = %s, '
                   'recovered_at = CASE WHEN %s THEN now() END WHERE run_id = %s',
                   (outcome, reason, json.dumps(node_outcomes), recovered, run_id))


def close_run_rows(cursor, run_id: int) -> None:
    """Closes a run and its open node runs as failed in mara's run log (what mara does after an error)."""
    cursor.execute('UPDATE data_integration_node_run SET end_time = now(), succeeded = FALSE '
                   'WHERE run_id = %s AND end_time IS NULL', (run_id,))
    cursor.execute('UPDATE data_integration_run SET end_time = now(), succeeded = FALSE '
                   'WHERE run_id = %s AND end_time IS NULL', (run_id,))


def request_cancel(run_id: int, by: str) -> bool:
    """Records a cancel request for a run that is still open; False when it is over."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('''
UPDATE app_run a SET cancel_requested_by = %s, cancel_requested_at = now()
FROM data_integration_run r
WHERE a.run_id = %s AND r.run_id = a.run_id AND r.end_time IS NULL AND a.cancel_requested_by IS NULL
RETURNING a.run_id''', (by, run_id))
        return cursor.fetchone() is not None


def cancel_requested_by(cursor, run_id: int) -> str | None:
    cursor.execute('SELECT cancel_requested_by FROM app_run WHERE run_id = %s', (run_id,))
    row = cursor.fetchone()
    return row[0] if row else None


def _rows(sql: str, params=()) -> list[dict]:
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def get(run_id: int) -> dict | None:
    rows = _rows(f'{_RUNS} WHERE r.run_id = %s', (run_id,))
    return rows[0] if rows else None


def last_runs(limit: int, before: int | None = None) -> list[dict]:
    """The newest `limit` runs, or those that started before the run `before`; newest first."""
    return _rows(f'{_RUNS} WHERE %(before)s IS NULL OR r.run_id < %(before)s ORDER BY r.run_id DESC LIMIT %(limit)s',
                 {'before': before, 'limit': limit})


def open_runs(cursor) -> list[dict]:
    cursor.execute(f'{_RUNS} WHERE r.end_time IS NULL ORDER BY r.run_id')
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def node_runs(cursor, run_id: int) -> dict:
    """{'a/b': succeeded (None: never finished)} of the nodes that a run started."""
    cursor.execute('SELECT node_path, succeeded FROM data_integration_node_run WHERE run_id = %s', (run_id,))
    return {'/'.join(path): succeeded for path, succeeded in cursor.fetchall()}


def run_url(run_id: int) -> str:
    """The whole address of a run's page, which a terminal can open."""
    return f'{config.web_ui_url()}/runs/{run_id}'


def pipeline_text(path) -> str:
    """'pipeline pypi' for ['pypi'], 'the root pipeline' for []."""
    return f"pipeline {' / '.join(path)}" if path else 'the root pipeline'


def path_text(path) -> str:
    """'pypi / read' for ['pypi', 'read'], 'the root pipeline' for []."""
    return ' / '.join(path) if path else 'the root pipeline'
