"""Helpers for tests and scripts that operate the app like its users: a real server, real runs, a real warehouse.

- `gunicorn()`: the app served by gunicorn on 127.0.0.1 at a free port, as in development or production (browser
  tests, `.scripts/screenshots.py`, `.scripts/load_test.py`), with the caller's environment, hence the caller's
  databases and data directory;
- `open_run_ids()`, `last_run_id()`, `start_flask()`: runs in progress and mara's
  run log;
- `warehouse_on_sample_data()`: sample data and one ETL run, shared by the test modules of a session.
"""

import contextlib
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent


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


# ---------------------------------------------------------------- runs


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    """Polls `predicate` until it returns something truthy, which is returned; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


def open_run_ids() -> list:
    """Runs in mara's run log that have not finished."""
    import mara_db.dbs
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT run_id FROM data_integration_run WHERE end_time IS NULL ORDER BY run_id')
        return [row[0] for row in cursor.fetchall()]


def last_run_id() -> int:
    import mara_db.dbs
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT coalesce(max(run_id), 0) FROM data_integration_run')
        return cursor.fetchone()[0]


def start_flask(*args: str, env: dict | None = None) -> subprocess.Popen:
    """Starts `flask --app app.app ARGS` in the background; read its output with `communicate()`."""
    return subprocess.Popen([str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app', *args],
                            cwd=PROJECT_ROOT, env=dict(os.environ, **(env or {})), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


# ---------------------------------------------------------------- a warehouse on sample data

# The sample that `make` generates on a fresh clone (the command's defaults), so that the README's
# results are checked against what a new user sees.
SAMPLE_DATA_ARGS: list[str] = []
_warehouse_runs = {}


def warehouse_on_sample_data() -> dict:
    """Generates sample data and runs the root pipeline with the CLI, on fresh databases.

    Returns {'run_id', 'output', 'seconds'}. Fails when the ETL fails. Several test modules share it: the
    warehouse is built again only when another test has run a pipeline or replaced the databases since.
    """
    from conftest import drop_databases, setup_databases

    key = (os.environ['DWH_DB'], os.environ['MARA_DB'], os.environ['DATA_DIR'])
    if key in _warehouse_runs and _warehouse_runs[key]['run_id'] == last_run_id():
        return _warehouse_runs[key]
    drop_databases()
    setup = setup_databases()
    assert setup.returncode == 0, setup.stdout + setup.stderr
    flask = [str(PROJECT_ROOT / '.venv' / 'bin' / 'flask'), '--app', 'app.app']
    generated = subprocess.run([*flask, 'sample-data', 'generate', *SAMPLE_DATA_ARGS], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    started = time.monotonic()
    etl = subprocess.run([*flask, 'mara-pipelines', 'run', '--disable-colors'], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=900)
    assert etl.returncode == 0, etl.stdout[-5000:] + etl.stderr[-5000:]
    _warehouse_runs[key] = {'run_id': last_run_id(), 'output': etl.stdout, 'seconds': time.monotonic() - started}
    return _warehouse_runs[key]


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
