"""Workarounds for bugs in the pinned mara packages.

Each fix names the bug, the version it was seen in, and the tests that cover it.
Remove a fix when the pinned version no longer has the bug (the test then tells).
Run control (the run lock, failure semantics, stopping runs) is not a bug fix: it lives in `app/runs`.
"""

import functools
import inspect
import linecache
import textwrap

import flask
import mara_app.app
import mara_pipelines.execution
import mara_pipelines.pipelines
import mara_pipelines.ui.views
import markupsafe
import werkzeug.exceptions


def recompiled(function, replacements: list[tuple[str, str]], why: str):
    """`function`, compiled again from its source with each (old, new) text replaced, in the module of the original.

    For changes deep inside a long mara function that no hook reaches. Each `old` must occur exactly once:
    when the pinned version changes the function, the import fails and names the change to review.
    The result can be recompiled again (its source is kept in linecache, where tracebacks find it too).
    """
    source = textwrap.dedent(inspect.getsource(function))
    for old, new in replacements:
        if source.count(old) != 1:
            raise RuntimeError(f'{function.__module__}.{function.__qualname__} is not the version that {why} '
                               f'was written for: review it against {old.strip().splitlines()[0]!r}')
        source = source.replace(old, new)
    file_name = f'<{function.__module__}.{function.__qualname__}, changed: {why}>'
    linecache.cache[file_name] = (len(source), None, source.splitlines(keepends=True), file_name)
    namespace = {}
    exec(compile(source, file_name, 'exec'), function.__globals__, namespace)
    return namespace[function.__name__]


# Bug 1 (mara-pipelines 3.5.0): `Task.__init__` sets the private generator attribute only for callable
# `commands`, so for a task built from a list `is_dynamic_commands` (which mara's task page asks) and
# `add_command(s)` raise AttributeError ('Task' object has no attribute '_Task__dynamic_commands_generator_func').
# A class-level default fixes every instance. Tested in tests/test_mara_fixes.py.
mara_pipelines.pipelines.Task._Task__dynamic_commands_generator_func = None


# Bug 2 (mara-app 2.5.0): the pages load Bootstrap 4.6.1's `bootstrap.min.js`, which is the build
# without Popper, but the tooltips that mara.js and the timeline chart switch on need Popper. Every
# page throws "Bootstrap's tooltips require Popper" once the navigation bar has loaded, which also
# stops mara.js before it highlights the current navigation entry, and the timeline chart stops
# redrawing. Popper 1.16.1 (MIT, npm `popper.js`, this file in app/ui/static) is loaded before
# Bootstrap: app/wiring.py, which composes the scripts of every page, puts it there.
# Tested in tests/test_mara_fixes.py (still there), tests/ui/test_web_ui.py (script order) and
# tests/ui/test_browser.py (no page errors, highlighting).
POPPER = 'vendor/popper-1.16.1.min.js'


# Bug 3 (mara-pipelines 3.5.0): at the end of a run, `execution.run_pipeline` reads the event queue until it is
# empty and then checks whether the executor process is still alive. When the executor sends its last events
# (the root pipeline's NodeFinished, RunFinished) and exits between these two steps, the events are never read:
# the run is closed as failed ("Cleaned up open runs/node_runs") although it succeeded, and the CLI exits 255.
# The loop now ends only when the executor is gone and its queue is empty.
# Tested in tests/test_mara_fixes.py.
_run_pipeline_losing_last_events = mara_pipelines.execution.run_pipeline
run_pipeline_reading_all_events = recompiled(_run_pipeline_losing_last_events, [(
    """        if not run_process.is_alive():
            # If we are here it might be that the executor dies without sending the necessary run finished events""",
    """        if not run_process.is_alive() and event_queue.empty():
            # If we are here it might be that the executor dies without sending the necessary run finished events""",
)], why='reading the last events of a run')
mara_pipelines.execution.run_pipeline = run_pipeline_reading_all_events


# Bug 4 (mara-app 2.5.0): error pages print the error's description as HTML, and mara's descriptions contain
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


# Bug 5 (mara-pipelines 3.5.0): a node page of an unknown node (/pipelines/nonexistent, /pipelines/pypi/no_such_task)
# redirects (302) to the closest pipeline that exists, without a message, and the fragments of an unknown node
# (its run output, charts, graph) show those of that pipeline. Every page and fragment of mara-pipelines whose URL
# names a node of a pipeline answers 404 when the pipeline has no such node. Tested in tests/test_mara_fixes.py.
@mara_pipelines.ui.views.blueprint.before_request
def _unknown_node_is_not_found() -> None:
    path = (flask.request.view_args or {}).get('path')
    node_ids = [node_id for node_id in (path or '').split('/') if node_id]  # a trailing slash is mara's redirect
    if not node_ids:
        return
    closest, found = mara_pipelines.pipelines.find_node(node_ids)
    # Below a task, mara's redirect stays: the tasks of a parallel task exist only at run time, and its run output
    # links to them (pypi/read_download_counts/files_1).
    if not found and isinstance(closest, mara_pipelines.pipelines.Pipeline):
        missing = node_ids[len(closest.path())]
        flask.abort(404, f'The pipeline "{"/".join(closest.path())}" has no node "{missing}".' if closest.parent
                    else f'There is no pipeline "{missing}".')
