"""What `.env` does at start-up, in a copy of the app as a user has it: `cp .env.example .env` changes no setting
(runs from the web UI stay on in development, as app/local_setup.py turns them on), an empty value means the
default (also local_setup.py's), and a value in .env wins over local_setup.py."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.support import PROJECT_ROOT

# What the copy prints: the settings that local_setup.py.example and .env.example are about.
SHOW = 'import app; from app import config; print(config.allow_run_from_web_ui(), config.first_date())'
# How the app is started: imported, or by the `flask` command, which loads .env itself before it imports the app.
STARTS = {'import': SHOW, 'flask': 'import flask.cli; flask.cli.load_dotenv(); ' + SHOW}


@pytest.fixture(params=STARTS)
def start(request) -> str:
    return STARTS[request.param]


@pytest.fixture
def checkout(tmp_path):
    """The app's code as in a fresh clone (no local_setup.py yet), without .env."""
    shutil.copytree(PROJECT_ROOT / 'app', tmp_path / 'app',
                    ignore=shutil.ignore_patterns('local_setup.py', '__pycache__'))
    return tmp_path


def settings(checkout, start: str, **environment: str) -> str:
    """What the app in `checkout` says its settings are, started by `start` with only `environment` set of them."""
    env = {name: value for name, value in os.environ.items()
           if name not in ('ALLOW_RUN_FROM_WEB_UI', 'FIRST_DATE')} | environment
    result = subprocess.run([sys.executable, '-c', start], cwd=checkout, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_env_copied_from_the_example_changes_no_setting(checkout, start):
    assert settings(checkout, start) == 'True 2018-04-01'  # local_setup.py, created on first run, allows runs
    shutil.copyfile(PROJECT_ROOT / '.env.example', checkout / '.env')
    assert settings(checkout, start) == 'True 2018-04-01'


@pytest.mark.parametrize('line, expected', [
    ('ALLOW_RUN_FROM_WEB_UI=', 'True 2018-04-01'),  # empty: the default, local_setup.py's
    ('ALLOW_RUN_FROM_WEB_UI=false', 'False 2018-04-01'),  # .env wins over local_setup.py
    ('FIRST_DATE=2018-04-05', 'True 2018-04-05'),
])
def test_a_line_of_env(checkout, start, line, expected):
    (checkout / '.env').write_text(line + '\n')
    assert settings(checkout, start) == expected


def test_the_environment_wins_over_env(checkout, start):
    (checkout / '.env').write_text('FIRST_DATE=2018-04-05\n')
    assert settings(checkout, start, FIRST_DATE='2018-04-07', ALLOW_RUN_FROM_WEB_UI='false') == 'False 2018-04-07'
