"""Starting a run in a process of its own, for the web UI: the request returns as soon as the run has started,
and the run goes on whatever happens to the request, the browser or the web server's worker.

The run is the CLI's `flask mara-pipelines run` in a new session. It tells on a pipe how it started (its run id,
or why it was refused); its output goes to the run's live log, its errors to RUN_LOG_DIR/background.log.
"""

import json
import os
import select
import subprocess
import sys
import threading
import time

from app import config
from app.runs.cli import HANDSHAKE_FD

START_TIMEOUT_SECONDS = 60
_app_module = 'app.app'  # the flask app whose run command starts the runs


def use_app(module_name: str) -> None:
    """Starts runs with the run command of another flask app (a test app with pipelines of its own)."""
    global _app_module
    _app_module = module_name


def start(arguments: list[str], started_by: str) -> dict:
    """Starts `flask mara-pipelines run ARGUMENTS` in the background. Returns what the run told:
    {'run_id': N} when it runs, {'refused': message, 'run_id': N of the run in progress},
    {'nothing': message} when there is nothing to rerun, or {'error': message}."""
    log_file = config.run_log_dir() / 'background.log'
    log_file.parent.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe()
    try:
        with log_file.open('ab') as log:
            process = subprocess.Popen(
                [sys.executable, '-m', 'flask', '--app', _app_module, 'mara-pipelines', 'run', *arguments,
                 '--disable-colors', '--started-by', started_by],
                cwd=config.PROJECT_ROOT, env={**os.environ, HANDSHAKE_FD: str(write_fd)}, pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    finally:
        os.close(write_fd)
    threading.Thread(target=process.wait, name=f'reaps run process {process.pid}', daemon=True).start()
    try:
        line = _read_line(read_fd, START_TIMEOUT_SECONDS)
    finally:
        os.close(read_fd)
    if line:
        return json.loads(line)
    return {'error': f'the run process ended before the run started; see {log_file}'}


def _read_line(fd: int, timeout: float) -> bytes:
    """The first line written to a pipe (empty when the writer closed it first or the time is up)."""
    data, deadline = b'', time.monotonic() + timeout
    while b'\n' not in data and (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b'\n')[0] if b'\n' in data else b''
