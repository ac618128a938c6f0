"""One run at a time: a PostgreSQL advisory lock in the mara database, held by the supervisor of a run.

The lock works across processes, gunicorn workers and machines, and the server releases it when the session
that holds it ends. So that this also happens soon when the holder's machine vanishes (a reboot, a lost
network), the session asks the server for short TCP keepalives. A lock whose holder is known to be dead (its
process on this machine is gone) is freed at once: a stale lock never blocks a new run.
"""

import re
import time

import mara_db.dbs
import psycopg2

from app.runs import records

RUN_LOCK_ID = 73_700_001  # key of the advisory lock; advisory locks are per database, hence per mara db
APPLICATION_NAME = 'mara pipeline run lock'
# The server drops the session of a vanished client after about idle + interval * count seconds.
_KEEPALIVES = {'tcp_keepalives_idle': 10, 'tcp_keepalives_interval': 5, 'tcp_keepalives_count': 3}
_RELEASE_WAIT_SECONDS = 10
_POLL_SECONDS = 0.1

_HOLDER = '''
SELECT l.pid, s.application_name FROM pg_locks l LEFT JOIN pg_stat_activity s USING (pid)
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1'''
_ANNOUNCED = re.compile(re.escape(APPLICATION_NAME) + r' of run (\d+)$')


class RunLock:
    """A session that holds the run lock; closing it releases the lock."""

    def __init__(self, connection):
        self.connection = connection
        with connection.cursor() as cursor:
            cursor.execute('SELECT pg_backend_pid()')
            self.backend_pid = cursor.fetchone()[0]

    def announce(self, run_id: int) -> None:
        """Names the run that holds the lock, in the session's application_name: the run is live exactly while its
        lock is held, from before its first event in the live log until after the last (a run's end in mara's
        tables comes earlier, before its summary)."""
        try:
            with self.connection.cursor() as cursor:
                cursor.execute('SELECT set_config(%s, %s, false)',
                               ('application_name', f'{APPLICATION_NAME} of run {run_id}'))
        except psycopg2.Error:  # the lock is lost: the run's watcher stops the run
            pass

    def fileno(self) -> int:
        return self.connection.fileno()

    def close(self) -> None:
        try:
            self.connection.close()
        except psycopg2.Error:  # the session may be gone already
            pass


def _take() -> RunLock | None:
    connection = mara_db.dbs.connect('mara')
    connection.autocommit = True  # a session-level lock, without a transaction left open during the run
    with connection.cursor() as cursor:
        cursor.execute('SELECT set_config(%s, %s, false)', ('application_name', APPLICATION_NAME))
        for setting, value in _KEEPALIVES.items():
            cursor.execute('SELECT set_config(%s, %s, false)', (setting, str(value)))
        cursor.execute('SELECT pg_try_advisory_lock(%s)', (RUN_LOCK_ID,))
        if cursor.fetchone()[0]:
            return RunLock(connection)
    connection.close()
    return None


def holder() -> tuple[int, int | None] | None:
    """(server process id, run id) of the session that holds the run lock, if any; the run id once announced."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute(_HOLDER, (RUN_LOCK_ID,))
        row = cursor.fetchone()
    if row is None:
        return None
    announced = _ANNOUNCED.match(row[1] or '')
    return row[0], int(announced.group(1)) if announced else None


def live_run() -> dict | None:
    """The run in progress: the run whose supervisor holds the lock."""
    held = holder()
    if held is None:
        return None
    backend, run_id = held
    run = records.get(run_id) if run_id is not None else None
    return run or {'run_id': None, 'lock_backend_pid': backend}


def refusal(run: dict | None) -> str:
    """Why a run is not started, naming the run in progress and its page."""
    if not run or run['run_id'] is None:
        return 'Not started, because another run is in progress (it has not recorded itself yet). ' \
               'Try again when it has finished.'
    return (f"Not started, because run {run['run_id']} of {records.pipeline_text(run['node_path'])} is in progress "
            f"(started {run['start_time']:%Y-%m-%d %H:%M:%S %Z} by {run['started_by']}): "
            f"see {records.run_url(run['run_id'])}. "
            'Try again when it has finished.')


def take() -> tuple[RunLock | None, dict | None]:
    """(the lock, None), or (None, the run in progress). Frees the lock of a run whose process is gone."""
    lock = _take()
    if lock:
        return lock, None
    run = live_run()
    if run and run['run_id'] is not None and not records.process_is_alive(run):
        with mara_db.dbs.cursor_context('mara') as cursor:
            cursor.execute('SELECT pg_terminate_backend(%s)', (run['lock_backend_pid'],))
        deadline = time.monotonic() + _RELEASE_WAIT_SECONDS
        while time.monotonic() < deadline:
            lock = _take()
            if lock:
                return lock, None
            time.sleep(_POLL_SECONDS)
        run = live_run()
    return None, run
