"""The project's commands as its users run them, in processes of their own with this session's settings (the
environment) and the caller's changes to them: `flask --app APP ...` and the scripts in .scripts/."""

import os
import subprocess

from tests.support import PROJECT_ROOT

FLASK = str(PROJECT_ROOT / '.venv' / 'bin' / 'flask')


def flask(*args: str, app: str = 'app.app', timeout: float = 600, env: dict | None = None,
          **options) -> subprocess.CompletedProcess:
    """Runs `flask --app APP ARGS` to its end; stdout and stderr are captured apart."""
    return subprocess.run([FLASK, '--app', app, *args], cwd=PROJECT_ROOT, env=dict(os.environ, **(env or {})),
                          capture_output=True, text=True, timeout=timeout, **options)


def start_flask(*args: str, app: str = 'app.app', env: dict | None = None, **options) -> subprocess.Popen:
    """Starts `flask --app APP ARGS` in the background; its output (stderr into stdout unless `options` say
    otherwise) is read with `communicate()`."""
    options = {'stdout': subprocess.PIPE, 'stderr': subprocess.STDOUT} | options
    return subprocess.Popen([FLASK, '--app', app, *args], cwd=PROJECT_ROOT, env=dict(os.environ, **(env or {})),
                            text=True, **options)


def script(name: str, *args: str, timeout: float = 120, env: dict | None = None,
           **options) -> subprocess.CompletedProcess:
    """Runs `bash .scripts/NAME ARGS` to its end, as the Makefile does."""
    return subprocess.run(['bash', str(PROJECT_ROOT / '.scripts' / name), *args], cwd=PROJECT_ROOT,
                          env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=timeout,
                          **options)
