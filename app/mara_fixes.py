"""Workarounds for bugs in the pinned mara packages: the only place where mara code is changed.

Each fix names the bug, the version it was seen in, and the tests that cover it.
Remove a fix when the pinned version no longer has the bug (the test then tells).
"""

import contextlib
import datetime
import functools
import json
import multiprocessing
import re

import flask
import mara_app.app
import mara_app.layout
import mara_db.dbs
import mara_pipelines.cli
import mara_pipelines.execution
import mara_pipelines.pipelines
import mara_pipelines.ui.last_runs
import mara_pipelines.ui.views
import markupsafe
import psutil
import werkzeug.exceptions
from mara_pipelines.logging import logger, pipeline_events
from mara_pipelines.parallel_tasks import files as parallel_files

# Bug 1 (mara-pipelines 3.5.0): `Task.__init__` sets the private generator attribute only for callable
# `commands`, so `add_command(s)` on a task built from a list raises AttributeError
# ('Task' object has no attribute '_Task__dynamic_commands_generator_func'). ParallelReadFile with
# `partition_target_table_by_day_id=True` always hits it. A class-level default fixes every instance.
# Tested in tests/test_mara_fixes.py.
mara_pipelines.pipelines.Task._Task__dynamic_commands_generator_func = None


# Bug 2 (mara-pipelines 3.4.0, 3.5.0): ParallelReadFile with `file_dependencies` and without
# `commands_after` appends to `sub_pipeline.final_node.commands` while there is no final node
# (AttributeError: 'NoneType' object has no attribute 'commands'). Give it an empty final task.
# Tested in tests/test_mara_fixes.py.
_original_add_parallel_tasks = parallel_files._ParallelRead.add_parallel_tasks


def _add_parallel_tasks(self, sub_pipeline: mara_pipelines.pipelines.Pipeline) -> None:
    if self.file_dependencies and sub_pipeline.final_node is None:
        sub_pipeline.add_final(mara_pipelines.pipelines.Task(
            id='after', description='Records the hash of the file dependencies.', commands=[]))
    _original_add_parallel_tasks(self, sub_pipeline)


parallel_files._ParallelRead.add_parallel_tasks = _add_parallel_tasks


# Bug 3 (mara-pipelines 3.5.0): Esc at a menu of `flask mara-pipelines run-interactively` makes `dialog`
# return the code 'esc' with an empty tag. mara only checks for Cancel and then opens the child node ''
# (KeyError: '', exit 1 with a traceback). While the command runs, its Dialog reports Esc as Cancel,
# so Esc leaves the runner as Cancel does (exit 0). Tested in tests/test_interactive_runner.py (tmux).


_original_run_interactively = mara_pipelines.cli.run_interactively.callback


@functools.wraps(_original_run_interactively)
def _run_interactively_esc_leaves(*args, **kwargs):
    import dialog

    class EscIsCancelDialog(dialog.Dialog):
        def menu(self, *menu_args, **menu_kwargs):
            code, tag = super().menu(*menu_args, **menu_kwargs)
            return (self.CANCEL if code == self.ESC else code), tag

    original_dialog, dialog.Dialog = dialog.Dialog, EscIsCancelDialog  # mara imports it inside the command
    try:
        return _original_run_interactively(*args, **kwargs)
    finally:
        dialog.Dialog = original_dialog


mara_pipelines.cli.run_interactively.callback = _run_interactively_esc_leaves


# Gap 4 (mara-pipelines 3.5.0): nothing stops a second run while one is running, so two runs (web UI
# and cron, or two browser tabs) would rebuild the same schemas at the same time. Every run, whether
# from the web UI, the CLI or the interactive runner, goes through `execution.run_pipeline`; it now
# first takes a PostgreSQL advisory lock in the mara database and holds it for as long as the run
# lasts. The lock works across gunicorn workers and machines, and the server releases it when the
# holding process dies, so a crash never leaves a stale lock behind. A refused run emits one error
# message and a failed RunFinished (the CLI exits non-zero, the web UI shows the message in red) and
# is not recorded as a run.
# Gap 5 (mara-pipelines 3.5.0): a failed run only prints 'failed' next to the node somewhere in a long
# output; the CLI then exits 255 without saying what failed. A failed run now ends with one line that
# names the failed nodes.
# When the browser leaves a run page before the end, mara closes the run as failed in its run log but
# leaves the run's processes behind, whose output nobody reads any more: those are stopped, so that
# what the run log says is true and the lock can be released.
# Tested in tests/test_web_ui.py, tests/test_cli.py and tests/test_browser.py.


RUN_LOCK_ID = 73_700_001  # key of the advisory lock; advisory locks are per database, hence per mara db

_original_execution_run_pipeline = mara_pipelines.execution.run_pipeline


def _take_run_lock():
    """A connection that holds the run lock, or None when another process holds it."""
    connection = mara_db.dbs.connect('mara')
    connection.autocommit = True  # a session-level lock, without a transaction left open during the run
    with connection.cursor() as cursor:
        cursor.execute("SET application_name = 'mara pipeline run lock'")
        cursor.execute('SELECT pg_try_advisory_lock(%s)', (RUN_LOCK_ID,))
        if cursor.fetchone()[0]:
            return connection
    connection.close()
    return None


def _running_run_description() -> str:
    """Which run holds the lock, as far as mara's run log knows."""
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute('SELECT run_id, node_path, start_time FROM data_integration_run '
                       'WHERE end_time IS NULL ORDER BY run_id DESC LIMIT 1')
        row = cursor.fetchone()
    if not row:
        return 'another run is in progress'
    run_id, node_path, start_time = row
    name = f"pipeline '{' / '.join(node_path)}'" if node_path else 'the root pipeline'
    return f'another run is in progress: run {run_id} of {name}, started {start_time:%Y-%m-%d %H:%M:%S %Z}'


def _refused_run(pipeline, interactively_started: bool):
    message = f'Not started, because {_running_run_description()}. Try again when it has finished.'
    yield pipeline_events.Output(node_path=pipeline.path(), message=message,
                                 format=logger.Format.STANDARD, is_error=True)
    yield pipeline_events.RunFinished(node_path=pipeline.path(), end_time=datetime.datetime.now(datetime.UTC),
                                      succeeded=False, interactively_started=interactively_started)


def failure_summary(failed_paths: list) -> str:
    """'Run failed: a / b, c' naming the innermost failed nodes (not the pipelines around them)."""
    innermost = [path for path in failed_paths
                 if not any(other[:len(path)] == path and other != path for other in failed_paths)]
    if not innermost:
        return 'Run failed (see the output above).'
    return 'Run failed. Failed nodes: ' + ', '.join(' / '.join(path) for path in innermost)


def _naming_failed_nodes(pipeline, events):
    """Passes the events on; before a failed RunFinished, emits the summary line."""
    failed_paths = []
    for event in events:
        if isinstance(event, pipeline_events.NodeFinished) and not event.succeeded:
            failed_paths.append(list(event.node_path))
        elif isinstance(event, pipeline_events.RunFinished) and not event.succeeded:
            yield pipeline_events.Output(node_path=pipeline.path(), message=failure_summary(failed_paths),
                                         format=logger.Format.STANDARD, is_error=True)
        yield event


def _stop_processes_started_since(known_pids: set) -> None:
    """Stops the run's executor process (a child of this process) and every task process below it."""
    for executor in multiprocessing.active_children():
        if executor.pid in known_pids or not executor.name.startswith('pipeline-'):
            continue
        try:
            tasks = psutil.Process(executor.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tasks = []
        executor.terminate()  # through multiprocessing, which has to reap its own child
        for task in tasks:
            with contextlib.suppress(psutil.NoSuchProcess):
                task.terminate()
        executor.join(timeout=5)
        if executor.is_alive():
            executor.kill()
            executor.join()
        for task in psutil.wait_procs(tasks, timeout=5)[1]:
            with contextlib.suppress(psutil.NoSuchProcess):
                task.kill()


def _run_pipeline_one_at_a_time(pipeline, nodes=None, with_upstreams=False, interactively_started=False):
    lock = _take_run_lock()
    if lock is None:
        yield from _refused_run(pipeline, interactively_started)
        return
    known_pids = {child.pid for child in multiprocessing.active_children()}
    try:
        yield from _naming_failed_nodes(pipeline, _original_execution_run_pipeline(
            pipeline, nodes, with_upstreams, interactively_started=interactively_started))
    except GeneratorExit:  # the browser left the run page: mara has closed the run as failed
        _stop_processes_started_since(known_pids)
        raise
    finally:
        lock.close()  # releases the lock


mara_pipelines.execution.run_pipeline = _run_pipeline_one_at_a_time


# Bug 6 (mara-app 2.5.0): the pages load Bootstrap 4.6.1's `bootstrap.min.js`, which is the build
# without Popper, but the tooltips that mara.js and the timeline chart switch on need Popper. Every
# page throws "Bootstrap's tooltips require Popper" once the navigation bar has loaded, which also
# stops mara.js before it highlights the current navigation entry, and the timeline chart stops
# redrawing. Popper 1.16.1 (MIT, npm `popper.js`, in app/ui/static/vendor) is loaded before Bootstrap.
# Tested in tests/test_web_ui.py (script order) and tests/test_browser.py (no page errors, highlighting).

_original_js_files = mara_app.layout.js_files


def _js_files_with_popper(response) -> list:
    files = _original_js_files(response)
    bootstrap = flask.url_for('mara_app.static', filename='bootstrap/bootstrap.min.js')
    position = files.index(bootstrap) if bootstrap in files else 0
    popper = flask.url_for('app_ui.static', filename='vendor/popper-1.16.1.min.js')
    return files[:position] + [popper] + files[position:]


mara_app.layout.js_files = _js_files_with_popper


# Bug 7 (mara-pipelines 3.5.0): the run page hides "Run again" during a run with the style
# `span.action-buttons > *`, but mara-app renders the header buttons in a div: the button shows during
# the run, and clicking it reloads the page, which ends the run in progress. app/ui/static/mara-fixes.js
# hides the header buttons while a run's event stream is open. Every page loads it (it checks itself
# whether a run stream opens); it only has to run before the run page opens its stream on DOMContentLoaded.
# Tested in tests/test_browser.py ("Run again" hidden during a run, shown at its end).
_js_files_before_bug_7 = mara_app.layout.js_files


def _js_files_with_browser_fixes(response) -> list:
    return _js_files_before_bug_7(response) + [flask.url_for('app_ui.static', filename='mara-fixes.js')]


mara_app.layout.js_files = _js_files_with_browser_fixes


# Bug 8 (mara-pipelines 3.5.0): the system statistics of past runs on pipeline and task pages are
# mislabelled. The view's query returns (time, disc read, disc write, net in, net out, CPU, mem, swap,
# iowait), but system-stats-chart.js reads rows as (time, CPU, disc read, disc write, net in, net out,
# mem, swap, iowait), the order that the live run page sends: the "CPU" line shows disc reads. The
# rows of the view's output are put into the chart's order.
# Tested in tests/test_mara_fixes.py.
_STORED_STATS = re.compile(r'nodePage\.showSystemStats\((?P<rows>\[.*\])\);', re.DOTALL)


def _rows_in_chart_order(match: re.Match) -> str:
    rows = [[row[0], row[5], *row[1:5], *row[6:]] for row in json.loads(match['rows'])]
    return f'nodePage.showSystemStats({json.dumps(rows)});'


def _system_stats_in_chart_order(*args, **kwargs):
    return _STORED_STATS.sub(_rows_in_chart_order, _original_system_stats(*args, **kwargs))


_original_system_stats = mara_pipelines.ui.last_runs.system_stats
# The blueprint registered the original view already; this runs when the app registers the blueprint,
# after its routes, and points the endpoint at the fixed view.
mara_pipelines.ui.views.blueprint.record(lambda state: state.app.view_functions.__setitem__(
    'mara_pipelines.system_stats', _system_stats_in_chart_order))


# Bug 9 (mara-pipelines 3.5.0): the run endpoints do not check what they are asked to run. `do-run/<id>` with
# an id that the pipeline does not have answers 500 (KeyError, e.g. for "x';drop table x--"), and a task's path
# (`utils/initialize_utils/run-`) answers 500 (AssertionError). Both now answer 404 or 400 with the reason,
# before mara's view runs. Tested in tests/test_access.py.
def _run_target_checked(view):
    @functools.wraps(view)
    def checked(path: str, with_upstreams: bool, ids: str):
        node, found = mara_pipelines.pipelines.find_node(path.split('/'))
        if not found:
            flask.abort(404, f'There is no pipeline "{path}".')
        if not isinstance(node, mara_pipelines.pipelines.Pipeline):
            flask.abort(400, f'"{path}" is a task, not a pipeline: run it from the page of its pipeline.')
        unknown = [node_id for node_id in (ids.split('/') if ids else []) if node_id not in node.nodes]
        if unknown:
            flask.abort(404, f'The pipeline "{path or "root"}" has no node "{", ".join(unknown)}".')
        return view(path, with_upstreams, ids)
    return checked


def _check_run_targets(state) -> None:
    for endpoint in ('mara_pipelines.run_page', 'mara_pipelines.do_run'):
        state.app.view_functions[endpoint] = _run_target_checked(state.app.view_functions[endpoint])


mara_pipelines.ui.views.blueprint.record(_check_run_targets)


# Bug 10 (mara-app 2.5.0): error pages print the error's description as HTML, and mara's descriptions contain
# parts of the URL: /pipelines/utils/run-/<img src=x onerror=alert(1)> runs the attacker's script (reflected
# XSS). The description is escaped before mara's error page shows it. Tested in tests/test_mara_fixes.py.
_original_register_error_handlers = mara_app.app.MaraApp.register_error_handlers


def _description_escaped(handler):
    @functools.wraps(handler)
    def escaped(error):
        if isinstance(error, werkzeug.exceptions.HTTPException) and error.description:
            error.description = markupsafe.escape(error.description)
        return handler(error)
    return escaped


def _register_error_handlers_escaped(self) -> None:
    _original_register_error_handlers(self)
    for handlers in self.error_handler_spec[None].values():
        for exception_class, handler in handlers.items():
            handlers[exception_class] = _description_escaped(handler)


mara_app.app.MaraApp.register_error_handlers = _register_error_handlers_escaped
