"""Helpers for tests and scripts that operate the app like its users, through a real server:

- `gunicorn()`: the app served by gunicorn on 127.0.0.1 at a free port, as in development or production (browser
  tests, `.scripts/screenshots.py`, `.scripts/load_test.py`), with the caller's environment, hence the caller's
  databases and data directory;
- `free_port()`, `http_get()`, `page_text()`, `wait_for()`, `first_sql_task()`: what the tests of servers and
  pages share.
"""

import contextlib
import html
import os
import pathlib
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from tests.support import PROJECT_ROOT


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def http_get(url: str, headers: dict | None = None, timeout: float = 60) -> tuple[int, str]:
    """(status, body) of a GET; error statuses are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'gunicorn exited with code {process.returncode}')
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f'gunicorn did not serve {url} within {timeout} s')


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # gunicorn stops its workers on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def gunicorn(workers: int = 2, threads: int = 4, env: dict | None = None, start_timeout: float = 60,
             production: bool = False, log_file: pathlib.Path | None = None, app: str | None = None):
    """Runs gunicorn on 127.0.0.1 and yields its base URL ('http://127.0.0.1:PORT').

    By default it serves the Flask app as the development server does (`app.app:app`: no login, the guest may do
    everything). `production=True` serves the production entry point `app.app:wsgi_app`: it needs a SECRET_KEY in
    `env` and requests need the login proxy's email header (app/access.py). `app` serves another WSGI app.
    Threads matter: a run page keeps one request open for the whole run (an event stream).
    gunicorn's output and access log go to `log_file`, or to a temporary file that is removed at the end; on failure
    to start, the error shows its end.
    """
    port = free_port()
    base_url = f'http://127.0.0.1:{port}'
    if log_file is None:
        handle, name = tempfile.mkstemp(prefix='gunicorn-', suffix='.log')
        os.close(handle)
    log_path = log_file or pathlib.Path(name)
    log = log_path.open('w')
    command = [str(PROJECT_ROOT / '.venv' / 'bin' / 'gunicorn'), '--bind', f'127.0.0.1:{port}',
               '--workers', str(workers), '--threads', str(threads), '--timeout', '0', '--access-logfile', '-',
               app or ('app.app:wsgi_app' if production else 'app.app:app')]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=dict(os.environ, **(env or {})),
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            _wait_until_serving(f'{base_url}/app-ui/static/favicon.png', process, start_timeout)
        except RuntimeError as error:
            raise RuntimeError(f'{error}; gunicorn said:\n{log_path.read_text()[-3000:]}') from None
        yield base_url
    finally:
        _stop(process)
        log.close()
        if log_file is None:
            log_path.unlink()


# ---------------------------------------------------------------- waiting and pages


def page_text(page: str) -> str:
    """The text of an HTML page or fragment: without its tags, entities decoded."""
    return html.unescape(re.sub(r'<[^>]+>', '', page))


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    """Polls `predicate` until it returns something truthy, which is returned; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


def first_sql_task(pipeline_id: str | None = None) -> tuple:
    """(url path, task, SQL text) of the first task that runs an SQL file, in a pipeline or in any.

    Scripts and tests pick their task page with it, so that renaming a task breaks neither.
    """
    import app  # noqa: F401  (configures mara)
    from app.pipelines import root_pipeline
    for pipeline in root_pipeline().nodes.values():
        if pipeline_id not in (None, pipeline.id) or not hasattr(pipeline, 'nodes'):
            continue
        for task in pipeline.nodes.values():
            for command in getattr(task, 'commands', None) or []:
                if getattr(command, 'sql_file_name', None):
                    sql = (pipeline.base_path() / command.sql_file_name).read_text()
                    return f'{pipeline.id}/{task.id}', task, sql
    raise LookupError(f'no task runs an SQL file in {pipeline_id or "any pipeline"}')
