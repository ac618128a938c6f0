"""Crash recovery: closing the runs whose supervising process died, and cleaning up after them.

A run is dead when its row in mara's run log is open while nobody holds the run lock: after `kill -9`, a reboot,
or when its process lost the connection to the mara database. Every run calls `close_dead_runs` right after it
took the lock, before it starts. For each dead run it
- stops its supervising process if that is still there (it lost the lock) and waits for it;
- closes the run and its open node runs as failed, with a reason (the one its process wrote to the run's live log
  when it could not reach the database any more, else that its process ended before the run finished), and adds
  the end to the live log, so that the browsers that follow it see it end;
- ends the database sessions that are still working for it (they carry the run's application name);
- drops the half-built `*_next` schemas in the warehouse, which only a run in progress may have.
"""

import contextlib
import datetime
import json
import pathlib
import signal
import time

import mara_db.dbs
import psutil
import psycopg2
from mara_pipelines import config as mara_config
from mara_pipelines.logging import pipeline_events

from app.runs import event_log, outcomes, records

# Schemas that a pipeline builds before it publishes them (`<schema>_next`, swapped in by util.replace_schema).
LEFTOVER_SCHEMAS = r'%\_next'
# How long dropping a leftover schema waits for a lock held by a session that is still ending.
DROP_LOCK_TIMEOUT = '10s'
# How long a supervising process that lost the lock gets to stop its run and exit.
STRAY_EXIT_SECONDS = 15
_POLL_SECONDS = 0.2

_DROP_STATEMENTS = '''
SELECT format('DROP SCHEMA %%I CASCADE', nspname), nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname'''


def close_dead_runs() -> list[str]:
    """Closes every open run (call it with the run lock held, so that none of them is alive). Returns what it did."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        dead = records.open_runs(cursor)
    if not dead:
        return []
    notes = []
    for run in dead:
        _stop_stray_process(run)
        reason, node_outcomes = _end_of(run)
        with mara_db.dbs.cursor_context('mara') as cursor:
            if node_outcomes is None:
                node_outcomes = outcomes.from_node_runs(run['scope'] or [], records.node_runs(cursor, run['run_id']))
            records.close_run_rows(cursor, run['run_id'])
            if run['log_file']:
                records.finish(cursor, run['run_id'], records.FAILED, reason, node_outcomes, recovered=True)
        if run['log_file']:
            _end_live_log(run, reason)
        notes.append(f"Closed run {run['run_id']} of {records.pipeline_text(run['node_path'])} as failed"
                     + (f" (started by {run['started_by']})" if run['started_by'] else '') + f': {reason}.')
    notes += _end_sessions([run['application_name'] for run in dead if run['application_name']])
    try:
        notes += _drop_leftover_schemas()
    except psycopg2.OperationalError as error:  # the warehouse is not there (now): its pipelines drop them then
        notes.append(f'Could not look for leftover schemas: {str(error).strip().splitlines()[0]}')
    return notes


def _stop_stray_process(run: dict) -> None:
    """A supervisor that lost the lock stops its run by itself; make sure that it is gone before going on."""
    if not run['pid'] or not records.process_is_alive(run):
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(run['pid'])
        for signal_number in (None, signal.SIGTERM, signal.SIGKILL):
            if signal_number:
                process.send_signal(signal_number)
            deadline = time.monotonic() + STRAY_EXIT_SECONDS
            while process.is_running() and process.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)
            if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
                return


def _end_of(run: dict) -> tuple[str, dict | None]:
    """(reason, node outcomes or None): what the run's process wrote last to its live log, else what is known."""
    for entry in reversed(event_log.read(_log_file(run)) if run['log_file'] else []):
        if entry.event == 'RunSummary':
            summary = json.loads(entry.data)
            return (summary['reason'] or f"it {summary['outcome']}, but could not record it"), summary['node_outcomes']
    if not run['pid']:
        return 'its process ended before the run finished', None
    return f"its process (pid {run['pid']} on {run['host']}) ended before the run finished", None


def _log_file(run: dict) -> pathlib.Path:
    return pathlib.Path(run['log_file'])


def _end_live_log(run: dict, reason: str) -> None:
    entries = event_log.read(_log_file(run))
    if entries and entries[-1].event == event_log.FINAL_EVENT:
        return
    with contextlib.suppress(OSError):
        event_log.append(_log_file(run), [
            pipeline_events.Output(node_path=run['node_path'], message=f'Closed as failed by the next run: {reason}.',
                                   format=pipeline_events.Output.Format.STANDARD, is_error=True),
            pipeline_events.RunFinished(node_path=run['node_path'], end_time=datetime.datetime.now(datetime.UTC),
                                        succeeded=False)])


def _end_sessions(application_names: list[str]) -> list[str]:
    if not application_names:
        return []
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ANY(%s)',
                       (application_names,))
        ended = cursor.fetchone()[0]
    return [f'Ended {ended} database sessions that still worked for them.'] if ended else []


def _drop_leftover_schemas() -> list[str]:
    dropped, kept = [], []
    with mara_db.dbs.cursor_context(mara_config.default_db_alias()) as cursor:
        cursor.execute(_DROP_STATEMENTS, (LEFTOVER_SCHEMAS,))
        statements = cursor.fetchall()
    for statement, schema in statements:
        try:
            with mara_db.dbs.cursor_context(mara_config.default_db_alias()) as cursor:
                cursor.execute('SELECT set_config(%s, %s, true)', ('lock_timeout', DROP_LOCK_TIMEOUT))
                cursor.execute(statement)
            dropped.append(schema)
        except psycopg2.errors.LockNotAvailable:
            kept.append(schema)
    notes = [f'Dropped their leftover schemas {", ".join(dropped)}.'] if dropped else []
    if kept:
        notes.append(f'Could not drop {", ".join(kept)} yet (still in use); the next run of its pipeline drops it.')
    return notes
