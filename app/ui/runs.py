"""The Runs page and the page of each run: start, watch, rejoin, cancel and rerun runs from any browser.

A run started here runs in a process of its own (app/runs/background.py): the request returns at once, and the
page follows the run's live log (app/runs/event_log.py) as any other page does, also after a reload, from a
second browser, and for runs started by the CLI or cron.

Who may see and do what is registered in app/access.py (the endpoints that change state take POST only, from a
page of this site, and need the resource "Run pipelines"); starting runs needs ALLOW_RUN_FROM_WEB_UI too. mara's
own run pages (`/pipelines/.../run-`, which ran the
pipeline inside the request of its event stream) lead to the start form here instead.
"""

import datetime
import functools
import html
import json
import pathlib
import time

import flask
import mara_db.dbs
import mara_pipelines.ui.views
from mara_page import _, acl, bootstrap, navigation, response
from mara_pipelines import config as mara_config
from mara_pipelines import pipelines
from mara_pipelines.logging import pipeline_events

from app.pipelines import progress
from app.runs import background, event_log, outcomes, records
from app.runs import lock as run_lock

blueprint = flask.Blueprint('app_runs', __name__, url_prefix='/runs')


LAST_RUNS = 20  # how many runs a page of the Runs page lists; older ones are a page further
_POLL_SECONDS = 0.2  # how often an event stream looks for new lines in a run's log
_CHECK_SECONDS = 1  # how often it checks that the run is still in progress
_KEEPALIVE_SECONDS = 15  # a comment line now and then tells a stream that its browser has gone
_OUTCOME_COLORS = {'succeeded': 'green', 'failed': 'red', 'cancelled': '#c60', 'running': '#0275d8',
                   'interrupted': 'red'}


def MARA_NAVIGATION_ENTRIES():
    return {'Runs': navigation.NavigationEntry(
        label='Runs', icon='history', rank=1.5, description='Runs in progress and the last runs',
        uri_fn=lambda: flask.url_for('app_runs.runs_page'))}


def _escape(value) -> str:
    return html.escape(str(value), quote=True)


# ---------------------------------------------------------------- guards of state changes

def _require_runs_from_web_ui() -> None:
    if not mara_config.allow_run_from_web_ui():
        flask.abort(403, 'Running pipelines from the web UI is disabled for this instance (ALLOW_RUN_FROM_WEB_UI)')


def _may_start_runs() -> bool:
    """Runs are allowed from the web UI, and the user may start them (app/wiring.py patches the setting so)."""
    return mara_config.allow_run_from_web_ui()


def _user() -> str:
    return f'web {acl.current_user_email()}'


# ---------------------------------------------------------------- what a run is

def _status(run: dict, live_id: int | None) -> str:
    if run['end_time'] is None:
        return 'running' if run['run_id'] == live_id else 'interrupted'
    return run['outcome'] or ('succeeded' if run['succeeded'] else 'failed')


def _what(run: dict) -> str:
    what = records.pipeline_text(run['node_path'])
    if run['node_ids']:
        what += f" [{', '.join(run['node_ids'])}]"
    if run['rerun_of']:
        what += f" (rerun of run {run['rerun_of']})"
    return what


def _duration(run: dict) -> str:
    end = run['end_time'] or datetime.datetime.now(datetime.UTC)
    seconds = int((end - run['start_time']).total_seconds())
    return f'{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}' if seconds >= 3600 else \
        f'{seconds // 60}:{seconds % 60:02}'


def _counts(run: dict) -> str:
    if not run['node_outcomes']:
        return ''
    counts = outcomes.task_counts(run['node_outcomes'])
    return ', '.join(f'{counts[outcome]} {outcome}' for outcome in outcomes.ORDER if counts[outcome])


def _status_badge(status: str, element_id: str | None = None):
    return _.span(id=element_id or f'status-{status}', class_='run-status',
                  style=f'color:{_OUTCOME_COLORS.get(status, "#888")};font-weight:bold')[status]


def _live_run_id() -> int | None:
    live = run_lock.live_run()
    return live['run_id'] if live else None


# ---------------------------------------------------------------- pages

def _assets() -> dict:
    """mara's scripts and styles of its run page (app/wiring.py serves the project's charts in place of mara's)."""
    static = functools.partial(flask.url_for, 'mara_pipelines.static')
    return {'js_files': [static(filename='timeline-chart.js'), static(filename='system-stats-chart.js'),
                         static(filename='utils.js'),
                         flask.url_for('app_ui.static', filename='runs.js')],
            'css_files': [static(filename='timeline-chart.css'), static(filename='run-page.css'),
                          static(filename='common.css'), flask.url_for('app_ui.static', filename='runs.css')]}


def _live_view(run: dict, live_id: int | None, height_class: str, reload_when_finished: bool = False):
    """The output, timeline, system statistics and task cards of a run, filled from its event stream."""
    options = {'eventsUrl': flask.url_for('app_runs.run_events', run_id=run['run_id']),
               'progressPrefix': progress.PREFIX,
               'baseUrl': flask.url_for('mara_pipelines.node_page', path=''), 'nodePath': run['node_path'],
               'serverTime': time.time() * 1000, 'reloadWhenFinished': reload_when_finished}
    return [
        _.div(class_='row')[
            _.div(class_='col-lg-7')[
                bootstrap.card(header_left=[_status_badge(_status(run, live_id), 'run-status'), ' ',
                                            _.span(id='run-summary')[' '],
                                            _.div(id='run-progress', class_='run-progress')[' ']],
                               header_right=_controls(run, live_id),
                               body=_.div(id='main-output-area', class_=f'run-output {height_class}')[' '])],
            _.div(class_='col-lg-5 scroll-container')[
                bootstrap.card(header_left='Timeline', body=[_.div(id='system-stats-chart', class_='google-chart')[' '],
                                                             _.div(id='timeline-chart')[' ']]),
                _.div(id='failed-tasks-container')[' '],
                _.div(id='running-tasks-container')[' '],
                bootstrap.card(id='card-template', header_left=' ', header_right=' ',
                               body=[_.div(class_='run-output')[' ']])]],
        _.script[f'document.addEventListener("DOMContentLoaded", () => followRun({json.dumps(options)}));']]


def _form(endpoint: str, label: str, element_id: str, values: dict | None = None, button_class='btn-primary',
          **url_values):
    return _.form(method='post', action=flask.url_for(endpoint, **url_values), id=element_id, class_='run-form')[
        [_.input(type='hidden', name=_escape(name), value=_escape(value)) for name, value in (values or {}).items()],
        _.button(type='submit', class_=f'btn btn-sm {button_class}')[label]]


def _controls(run: dict, live_id: int | None):
    """Cancel while the run is in progress; rerun when it is over, did not succeed and is the last run."""
    if not _may_start_runs():
        return ''
    if run['run_id'] == live_id:
        return _form('app_runs.cancel_run', 'Cancel', 'cancel-form', button_class='btn-danger', run_id=run['run_id'])
    last = records.last_runs(1)
    if live_id is None and last and last[0]['run_id'] == run['run_id'] and _status(run, live_id) != 'succeeded':
        return _rerun_form()
    return ''


def _rerun_form():
    return _form('app_runs.rerun_failed', 'Rerun failed and not-run nodes', 'rerun-form', button_class='btn-primary')


@blueprint.route('')
def runs_page():
    """The run in progress, then the last runs; `?before=N`: the runs before run N."""
    before = flask.request.args.get('before', type=int)
    live_id = _live_run_id()
    runs = records.last_runs(LAST_RUNS + 1, before)  # one more tells whether there are older ones
    runs, older = runs[:LAST_RUNS], len(runs) > LAST_RUNS
    current = next((run for run in runs if run['run_id'] == live_id), None) or (live_id and records.get(live_id))
    if current:
        top = [_.h5[_.a(href=flask.url_for('app_runs.run_page', run_id=current['run_id']))[
            f"Run {current['run_id']}"], f": {_escape(_what(current))}, started by {_escape(current['started_by'])}"],
            _live_view(current, live_id, 'runs-page-output', reload_when_finished=True)]
    else:
        last = runs[0] if runs and before is None else (records.last_runs(1) or [None])[0]
        rerun = _rerun_form() if last and _status(last, None) != 'succeeded' and _may_start_runs() else ''
        top = bootstrap.card(header_left='No run in progress', header_right=rerun)
    rows = [_.tr[
        _.td[_.a(href=flask.url_for('app_runs.run_page', run_id=run['run_id']))[str(run['run_id'])]],
        _.td[_escape(_what(run))],
        _.td[_escape(run['started_by'] or '')],
        _.td[f"{run['start_time']:%Y-%m-%d %H:%M:%S}"],
        _.td[_duration(run)],
        _.td[_status_badge(_status(run, live_id), f"status-of-run-{run['run_id']}"),
             _.div(class_='run-reason')[_escape(run['reason'] or '')]],
        _.td[_counts(run)]] for run in runs]
    return response.Response(
        html=[top, bootstrap.card(
            header_left='Last runs' if before is None else f'Runs before run {before}',
            header_right=_pages_of_runs(runs, before, older),
            body=bootstrap.table(['Run', 'What', 'Started by', 'Started', 'Duration', 'Outcome', 'Tasks'], rows,
                                 id='last-runs'))],
        title='Runs', **_assets())


def _pages_of_runs(runs: list[dict], before: int | None, older: bool) -> list:
    """Links to the newest runs and to the page of older runs, where there are such."""
    links = []
    if before is not None:
        links.append(_.a(id='newest-runs', href=flask.url_for('app_runs.runs_page'))['Newest runs'])
    if older:
        links.append(_.a(id='older-runs', style='margin-left:1em',
                         href=flask.url_for('app_runs.runs_page', before=runs[-1]['run_id']))['Older runs'])
    return links


def _run_or_404(run_id: int) -> dict:
    run = records.get(run_id)
    if run is None:
        flask.abort(404, f'There is no run {run_id}')
    return run


@blueprint.route('/<int:run_id>')
def run_page(run_id: int):
    run = _run_or_404(run_id)
    live_id = _live_run_id()
    title = [f'Run {run_id}: ', _escape(_what(run)),
             f" · started by {_escape(run['started_by'] or 'somebody')} at {run['start_time']:%Y-%m-%d %H:%M:%S %Z}"]
    return response.Response(html=_live_view(run, live_id, 'run-page-output'), title=title, **_assets())


# ---------------------------------------------------------------- the live log as an event stream

@blueprint.route('/<int:run_id>/events')
def run_events(run_id: int):
    """The events of a run as server-sent events, from the beginning (or from Last-Event-ID) until RunFinished."""
    run = _run_or_404(run_id)
    offset = int(flask.request.headers.get('Last-Event-ID') or 0)
    file = pathlib.Path(run['log_file']) if run['log_file'] else event_log.path(run_id)
    return flask.Response(_stream(run, file, offset), mimetype='text/event-stream',
                          headers={'X-Accel-Buffering': 'no', 'Cache-Control': 'no-store'})


def _stream(run: dict, file: pathlib.Path, offset: int):
    next_check = next_keepalive = 0.0
    while True:
        for entry in event_log.read(file, offset):
            offset = entry.end
            yield f'id: {entry.end}\nevent: {entry.event}\ndata: {entry.data}\n\n'
            if entry.event == event_log.FINAL_EVENT:
                return
        now = time.monotonic()
        if now >= next_check:
            next_check = now + _CHECK_SECONDS
            if _live_run_id() != run['run_id'] and not event_log.read(file, offset):
                yield from _end_without_log(run, offset)  # over, and its log does not say so (or is elsewhere)
                return
        if now >= next_keepalive:
            next_keepalive = now + _KEEPALIVE_SECONDS
            yield ': still running\n\n'
        time.sleep(_POLL_SECONDS)


def _end_without_log(run: dict, offset: int):
    run = records.get(run['run_id']) or run
    if run['end_time'] is None:
        message = "The run's process is gone; the next run closes the run as failed."
    else:
        message = f"The run ended ({_status(run, None)}{': ' + run['reason'] if run['reason'] else ''})."
    for event in [
            pipeline_events.Output(node_path=run['node_path'], message=message, is_error=not run['succeeded']),
            pipeline_events.RunFinished(node_path=run['node_path'], succeeded=bool(run['succeeded']),
                                        end_time=run['end_time'] or datetime.datetime.now(datetime.UTC))]:
        yield f'id: {offset}\nevent: {type(event).__name__}\ndata: {json.dumps(event_log.event_data(event))}\n\n'


# ---------------------------------------------------------------- starting, cancelling, rerunning

def _selection(path: str, node_ids: list[str]) -> tuple:
    """(pipeline, nodes) of a start request, or 404."""
    pipeline, found = pipelines.find_node([node_id for node_id in path.split('/') if node_id])
    # (error pages escape their description: app/mara_fixes.py)
    if not found:
        flask.abort(404, f'There is no pipeline "{path}".')
    if not isinstance(pipeline, pipelines.Pipeline):
        flask.abort(400, f'"{path}" is a task, not a pipeline: run it from the page of its pipeline.')
    missing = [node_id for node_id in node_ids if node_id not in pipeline.nodes]
    if missing:
        flask.abort(404, f'The pipeline "{path or "root"}" has no node "{", ".join(missing)}".')
    return pipeline, [pipeline.nodes[node_id] for node_id in node_ids]


def _request_values() -> tuple[str, list[str], bool]:
    values = flask.request.values
    node_ids = [node_id for node_id in values.get('nodes', '').split(',') if node_id]
    return values.get('path', '').strip('/'), node_ids, values.get('with_upstreams', '') in ('1', 'true', 'on')


@blueprint.route('/new', methods=['GET'])
def new_run():
    """Asks before it starts a run (links to runs lead here; only the POST of this form starts one)."""
    _require_runs_from_web_ui()
    path, node_ids, with_upstreams = _request_values()
    pipeline, nodes = _selection(path, node_ids)
    what = {'path': '/'.join(pipeline.path()), 'nodes': ','.join(node_ids), 'with_upstreams': int(with_upstreams)}
    description = _what({'node_path': pipeline.path(), 'node_ids': node_ids, 'rerun_of': None})
    description += ' with their upstreams' if with_upstreams and node_ids else ''
    live_id = _live_run_id()
    busy = _.p(class_='text-danger')['Run ', _.a(href=flask.url_for('app_runs.run_page', run_id=live_id))[
        str(live_id)], ' is in progress: a new run is refused until it has finished.'] if live_id else ''
    return response.Response(
        html=bootstrap.card(header_left=f'Start a run of {_escape(description)}', body=[
            busy,
            _.p['The run goes on in a process of its own: leaving or closing this page does not stop it. '
                'Its page shows its output, from any browser, until it has finished.'],
            _form('app_runs.start_run', 'Start', 'start-form', values=what)]),
        title=['Run ', _escape(description)])


@blueprint.route('/new', methods=['POST'])
def start_run():
    _require_runs_from_web_ui()
    path, node_ids, with_upstreams = _request_values()
    pipeline, _nodes = _selection(path, node_ids)
    arguments = ['--path', ','.join(pipeline.path())] if pipeline.path() else []
    arguments += ['--nodes', ','.join(node_ids)] if node_ids else []
    arguments += ['--with_upstreams'] if with_upstreams and node_ids else []
    return _started(background.start(arguments, _user()))


@blueprint.route('/rerun', methods=['POST'])
def rerun_failed():
    _require_runs_from_web_ui()
    return _started(background.start(['--rerun-failed'], _user()))


def _started(told: dict):
    if 'run_id' in told and 'refused' not in told:
        return flask.redirect(flask.url_for('app_runs.run_page', run_id=told['run_id']), code=303)
    message = told.get('refused') or told.get('nothing') or f"The run did not start: {told.get('error')}"
    link = _.p[_.a(href=flask.url_for('app_runs.run_page', run_id=told['run_id']))[
        f"Follow run {told['run_id']}"]] if told.get('run_id') else ''
    return response.Response(html=bootstrap.card(body=[_.p(id='start-message')[_escape(message)], link]),
                             title='Not started', status=409 if 'refused' in told else 200)


@blueprint.route('/<int:run_id>/cancel', methods=['POST'])
def cancel_run(run_id: int):
    """Asks the run's process to stop the run; it does within a second and records the run as cancelled."""
    _require_runs_from_web_ui()
    _run_or_404(run_id)
    records.request_cancel(run_id, _user())
    return flask.redirect(flask.url_for('app_runs.run_page', run_id=run_id), code=303)


# ---------------------------------------------------------------- mara's run pages lead here

def _mara_run_page(path: str, with_upstreams: bool, ids: str | None):
    """mara's run page started the run in the request of its event stream: now it leads to the start form."""
    _require_runs_from_web_ui()
    _selection(path or '', [node_id for node_id in (ids or '').split('/') if node_id])
    return flask.redirect(flask.url_for('app_runs.new_run', path=path or '',
                                        nodes=','.join((ids or '').split('/')).strip(','),
                                        with_upstreams=int(with_upstreams)))


def _mara_do_run(path: str, with_upstreams: bool, ids: str | None):
    _require_runs_from_web_ui()
    _selection(path or '', [node_id for node_id in (ids or '').split('/') if node_id])
    flask.abort(410, 'Runs are started with a POST to /runs/new and followed on /runs/<run id>.')


# ---------------------------------------------------------------- system statistics of past runs

_SYSTEM_STATISTICS = '''
SELECT stats.timestamp, stats.cpu_usage, stats.disc_read, stats.disc_write, stats.net_recv, stats.net_sent,
       stats.mem_usage, stats.swap_usage, stats.iowait
FROM data_integration_node_run nr
JOIN data_integration_system_statistics stats
  ON stats.run_id = nr.run_id AND stats.timestamp BETWEEN nr.start_time AND nr.end_time
WHERE nr.run_id = %s AND nr.node_path = %s
ORDER BY stats.timestamp'''


def _system_stats(path: str, run_id: int | None):
    """The system statistics of a node's run, on mara's pipeline and task pages: every measurement, however few
    (mara shows none below 15, which hid them for every run shorter than 15 s), in the column order in which
    the system-stats chart reads them (app/ui/static/charts; mara's own query gives disc reads where it expects CPU)."""
    if not mara_config.display_system_statistics():
        return ''
    node, _found = pipelines.find_node(path.split('/'))
    with mara_db.dbs.cursor_context('mara') as cursor:
        if not run_id:
            cursor.execute('SELECT max(run_id) FROM data_integration_node_run WHERE node_path = %s', (node.path(),))
            run_id = cursor.fetchone()[0]
        cursor.execute(_SYSTEM_STATISTICS, (run_id, node.path()))
        rows = [[row[0].isoformat(), *row[1:]] for row in cursor.fetchall()]
    if not rows:
        return ''
    return str(_.div(id='system-stats-chart', class_='google-chart')[' ']) \
        + str(_.script[f'nodePage.showSystemStats({json.dumps(rows)});'])


# Views of mara that are replaced: the app registers mara's blueprint with them, then points their endpoints here.
# app/access.py checks the permissions of the endpoints.
mara_pipelines.ui.views.blueprint.record(lambda state: state.app.view_functions.update({
    'mara_pipelines.run_page': _mara_run_page,
    'mara_pipelines.do_run': _mara_do_run,
    'mara_pipelines.system_stats': _system_stats}))
