"""The run command's own options, and the terminal runner.

`flask mara-pipelines run` (and its alias `data_integration.ui.run`) gets
- `--rerun-failed`: run the failed, skipped and not-run nodes of the last run, and nothing else;
- `--started-by` (hidden): who or what starts the run, as the Runs page shows it (cron, the web UI).
When the web UI starts the command, it passes a pipe in RUN_HANDSHAKE_FD, on which the run tells how it started.
"""

import functools
import json
import os
import sys

import click
from mara_pipelines import cli as mara_cli
from mara_pipelines import config as mara_config

from app.runs import interactive, supervisor

HANDSHAKE_FD = 'RUN_HANDSHAKE_FD'


def _handshake() -> tuple:
    """(a function that tells the starter of this process how the run started, its file descriptor), or (None, ())."""
    fd = os.environ.pop(HANDSHAKE_FD, None)
    if fd is None:
        return None, ()
    fd = int(fd)

    def tell(message: dict) -> None:
        os.write(fd, (json.dumps(message) + '\n').encode())
        os.close(fd)
    return tell, (fd,)


def _run(original, path, nodes, with_upstreams, disable_colors=False, rerun_failed=False, started_by=None):
    tell, fds = _handshake()
    with supervisor.requested(started_by=started_by or f'cli {supervisor.user_at_host()}', rerun_failed=rerun_failed,
                              tell=tell, inherited_fds=fds):
        if not rerun_failed:
            return original(path, nodes, with_upstreams, disable_colors)
        if path or nodes or with_upstreams:
            raise click.UsageError('--rerun-failed reruns what the last run did not finish: '
                                   'leave out --path, --nodes and --with_upstreams')
        if not mara_cli.run_pipeline(mara_config.root_pipeline(), disable_colors=disable_colors):
            sys.exit(-1)


def install() -> None:
    run = mara_cli.run
    run.params += [
        click.Option(['--rerun-failed'], is_flag=True, default=False,
                     help='Run the failed, skipped and not-run nodes of the last run (and nothing else).'),
        click.Option(['--started-by'], hidden=True, help='Who or what starts the run, for the Runs page.')]
    # functools.wraps keeps mara's module name, by which mara-app files the command under `mara-pipelines`
    run.callback = functools.wraps(run.callback)(functools.partial(_run, run.callback))
    mara_cli.run_interactively.callback = functools.wraps(mara_cli.run_interactively.callback)(
        interactive.run_interactively)
