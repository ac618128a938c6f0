"""Helpers for the tests of runs: mara's run log and the project's run records as the tests read them, the run lock
held from outside, and runs of the test app's pipelines (tests/support/run_control_app.py) in real processes, with
what they leave behind in the databases and the process table.

The test app must not be imported into the test process (it replaces the root pipeline for the whole process):
its runs are started as commands, and its pages served by gunicorn.
"""

import contextlib
import os
import pathlib
import signal
import subprocess
import time

import mara_db.dbs
import psutil

from tests.support import commands
from tests.support.db import mara_query, query
from tests.support.servers import wait_for

APP = 'tests.support.run_control_app'


class RunControl:
    """The files that steer the test app's tasks, and runs of its pipelines."""

    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.env = dict(os.environ, RUN_CONTROL_DIR=str(directory))

    def sleep(self, seconds: int) -> None:
        """slow / wait sleeps this long in the database."""
        (self.directory / 'seconds').write_text(str(seconds))

    def break_flaky(self, broken: bool = True) -> None:
        """flaky / breaks fails while broken."""
        marker = self.directory / 'broken'
        marker.touch() if broken else marker.unlink(missing_ok=True)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """`flask --app tests.support.run_control_app ARGS`, run to its end."""
        return commands.flask(*args, app=APP, timeout=timeout, env=self.env)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.cli('mara-pipelines', 'run', '--disable-colors', *args, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen:
        """`flask ... mara-pipelines run ARGS` in the background, as the leader of a session (as from a terminal)."""
        return commands.start_flask('mara-pipelines', 'run', '--disable-colors', *args, app=APP, env=self.env,
                                    start_new_session=True)


@contextlib.contextmanager
def run_lock_held():
    """Another session holds the run lock (as the supervisor of a run in progress does)."""
    from app.runs import lock
    holder = mara_db.dbs.connect('mara')
    try:
        with holder.cursor() as cursor:
            cursor.execute('SELECT pg_advisory_lock(%s)', (lock.RUN_LOCK_ID,))
        yield
    finally:
        holder.close()


def last_run_id() -> int:
    return mara_query('SELECT coalesce(max(run_id), 0) FROM data_integration_run')[0][0]


def open_runs() -> list[int]:
    """Runs in mara's run log that have not finished."""
    return [row[0] for row in mara_query('SELECT run_id FROM data_integration_run WHERE end_time IS NULL '
                                         'ORDER BY run_id')]


def runs_since(run_id: int) -> list[tuple]:
    """(run_id, node_path, succeeded) of the runs after `run_id`."""
    return mara_query('SELECT run_id, node_path, succeeded FROM data_integration_run WHERE run_id > %s '
                      'ORDER BY run_id', (run_id,))


def node_runs(run_id: int, mara_db: str | None = None) -> dict:
    """{'a/b': succeeded} of the nodes that a run started (in this session's mara database, or in `mara_db`)."""
    sql = 'SELECT node_path, succeeded FROM data_integration_node_run WHERE run_id = %s'
    rows = query(sql, (run_id,), database=mara_db) if mara_db else mara_query(sql, (run_id,))
    return {'/'.join(path): succeeded for path, succeeded in rows}


def record(run_id: int) -> dict:
    """The run's row in app_run."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT * FROM app_run WHERE run_id = %s', (run_id,))
        return dict(zip([column.name for column in cursor.description], cursor.fetchone()))


def next_schemas() -> list[str]:
    return [row[0] for row in query(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE '%\_next'")]


def sleeping_sessions() -> list[str]:
    """Application names of the database sessions that run slow / wait's pg_sleep."""
    return [row[0] for row in mara_query("SELECT application_name FROM pg_stat_activity "
                                         "WHERE query LIKE 'SELECT pg_sleep%%' AND pid <> pg_backend_pid()")]


def wait_until_slow_waits(timeout: float = 60) -> int:
    """Waits until a run's slow / wait sleeps in the database; returns the run id."""
    def waiting():
        rows = mara_query("SELECT run_id FROM data_integration_node_run "
                          "WHERE node_path = '{slow,wait}' AND end_time IS NULL")
        return rows[0][0] if rows and sleeping_sessions() else None
    return wait_for(waiting, timeout, 'slow / wait to sleep in the database')


def processes_of(pid: int) -> list[psutil.Process]:
    """A process and all processes below it (the run's processes lead sessions of their own, but stay below it)."""
    process = psutil.Process(pid)
    return [process, *process.children(recursive=True)]


def running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of the processes that still run (a zombie has ended)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


def processes_of_the_test_app() -> list[str]:
    """The command lines of every process on the machine that runs a command of the test app (`ps`)."""
    listing = subprocess.run(['ps', '-eo', 'stat=,args='], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if f'--app {APP} mara-pipelines run' in line and
            not line.lstrip().startswith('Z')]


def kill_session(process: subprocess.Popen) -> None:
    """kill -9 of a process's process group (it leads one)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_gone(processes: list, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while running(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    return running(processes)
