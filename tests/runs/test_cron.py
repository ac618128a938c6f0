"""The daily run from cron: the crontab line that `make install-cron` installs, its command run as cron runs it
(/bin/sh, a minimal environment, no terminal), its log, and overlapping runs refused."""

import os
import pathlib
import re
import subprocess

import pytest

from app.sample_data import generator
from tests.support import PROJECT_ROOT
from tests.support.run_control import last_run_id, record, run_lock_held

# What cron gives a command (Debian's cron), besides the session's databases and data for the test.
CRON_ENVIRONMENT = {'HOME': os.environ.get('HOME', '/root'), 'LOGNAME': 'root', 'SHELL': '/bin/sh',
                    'PATH': '/usr/bin:/bin'}
SESSION_SETTINGS = ['DWH_DB', 'MARA_DB', 'DATA_DIR', 'FIRST_DATE', 'LAST_DATE', 'RUN_LOG_DIR']


@pytest.fixture
def cron_line(tmp_path) -> tuple[list[str], str, pathlib.Path]:
    """(schedule fields, command, log file) of the line that `make install-cron` installs."""
    log = tmp_path / 'cron' / 'cron.log'
    line = subprocess.run(['make', '-s', 'cron-line', f'CRON_LOG={log}'], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert '\n' not in line and '%' not in line, line  # one line; cron would read % as a line break
    fields = line.split(' ', 5)
    return fields[:5], fields[5], log


def _run_as_cron(command: str, **settings: str) -> subprocess.CompletedProcess:
    env = dict(CRON_ENVIRONMENT, **{name: os.environ[name] for name in SESSION_SETTINGS} | settings)
    return subprocess.run(['/bin/sh', '-c', command], cwd='/', env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, start_new_session=True, timeout=900)


@pytest.fixture
def sample_data(flask_cli, tmp_path) -> pathlib.Path:
    """A DATA_DIR with a small sample of the standard days: what is tested is the run from cron, not the data."""
    data_dir = tmp_path / 'data'
    result = flask_cli('sample-data', 'generate', '--data-dir', str(data_dir), '--pypi-rows', str(generator.MIN_ROWS),
                       '--github-rows', str(generator.MIN_ROWS))
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir


def test_the_crontab_line_runs_the_root_pipeline_daily_into_a_log(cron_line, sample_data):
    schedule, command, log = cron_line
    minute, hour, *every_day = schedule
    assert minute.isdigit() and hour.isdigit() and every_day == ['*', '*', '*'], schedule
    result = _run_as_cron(command, DATA_DIR=str(sample_data))
    assert result.returncode == 0, log.read_text()[-5000:] if log.exists() else result.stderr
    assert result.stdout == result.stderr == ''  # all of it went to the log
    output = log.read_text()
    run_id = last_run_id()
    assert re.match(rf' Run {run_id} of the root pipeline, started by cron at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC',
                    output), output[:500]
    assert re.search(r'^ Run succeeded: (\d+) of \1 tasks succeeded\.$', output, re.MULTILINE), output[-3000:]
    assert (record(run_id)['started_by'], record(run_id)['outcome']) == ('cron', 'succeeded')


def test_a_cron_run_is_refused_while_another_run_is_in_progress(cron_line):
    _, command, log = cron_line
    with run_lock_held():
        before = last_run_id()
        result = _run_as_cron(command)
    assert result.returncode != 0
    assert 'Not started, because another run is in progress' in log.read_text()
    assert last_run_id() == before
