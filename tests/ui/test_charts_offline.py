"""mara-pipelines' charts work offline: the pages load the project's two charts, drawn with Chart.js and its
date-fns adapter (app/ui/static/charts), in place of Google's chart loader and mara's chart scripts, through the
composed `js_files` of app/wiring.py.

The browser test runs the app on a free local port after two real runs of the utils pipeline, opens its pipeline
page and the page of its last run in headless Chromium (every request that leaves 127.0.0.1 refused) and checks
that both charts show exactly the runs' durations and system statistics from mara's database and the run's log.
"""

import calendar
import datetime
import hashlib
import json
import re
import threading

import pytest

from app import config, wiring
from app.runs import event_log
from tests.browser import chromium, new_page

CHARTS = config.PROJECT_ROOT / 'app' / 'ui' / 'static' / 'charts'
LIBRARY = [f'/app-ui/static/{file}' for file in wiring.CHART_LIBRARY]
RUN_TIME_CHART = '/app-ui/static/charts/run-time-chart.js'
SYSTEM_STATS_CHART = '/app-ui/static/charts/system-stats-chart.js'
MARAS_CHARTS = ['/pipelines/static/run-time-chart.js', '/pipelines/static/system-stats-chart.js']
MEASURES = ['CPU', 'Disc read', 'Disc write', 'Net in', 'Net out', 'Mem', 'Swap', 'IOWait']
STATISTICS_COLUMNS = ['cpu_usage', 'disc_read', 'disc_write', 'net_recv', 'net_sent', 'mem_usage', 'swap_usage',
                      'iowait']  # in the order of MEASURES


def _scripts(client, url: str) -> list[str]:
    return re.findall(r'<script src="([^"?]+)', client.get(url).get_data(as_text=True))


def test_pages_load_the_projects_charts_instead_of_googles(client):
    node_page, runs_page = _scripts(client, '/pipelines/utils'), _scripts(client, '/runs')
    for scripts, charts in [(node_page, [RUN_TIME_CHART, SYSTEM_STATS_CHART]), (runs_page, [SYSTEM_STATS_CHART])]:
        assert not [script for script in scripts if 'gstatic' in script or 'shim' in script
                    or script in MARAS_CHARTS], scripts
        assert len(scripts) == len(set(scripts)), scripts  # each once
        positions = [scripts.index(script) for script in LIBRARY + charts]
        assert positions == sorted(positions), scripts  # Chart.js, its adapter, common.js, then the charts
    assert RUN_TIME_CHART not in runs_page
    assert '/pipelines/static/kolorwheel.js' in node_page and '/pipelines/static/utils.js' in node_page
    for script in LIBRARY + [RUN_TIME_CHART, SYSTEM_STATS_CHART]:
        response = client.get(script)
        assert response.status_code == 200 and 'javascript' in response.content_type, script
        response.close()
    styles = re.findall(r'<link rel="stylesheet" href="([^"?]+)', client.get('/runs').get_data(as_text=True))
    assert styles[-1] == '/app-ui/static/app.css' and '/app-ui/static/runs.css' in styles, styles


def test_the_vendored_files_are_the_pinned_ones():
    """Each vendored file has the sha256 that the charts README pins."""
    pins = re.findall(r'^\| `([^`]+)` \| .*? \| `([0-9a-f]{64})` \|', (CHARTS / 'README.md').read_text(), re.MULTILINE)
    assert {file for file, _ in pins} == {'chart.umd.min.js', 'chartjs-adapter-date-fns.bundle.min.js'}, pins
    for file, sha256 in pins:
        assert hashlib.sha256((CHARTS / file).read_bytes()).hexdigest() == sha256, file


@pytest.fixture
def server_url(app):
    """The app served by werkzeug on a free port of 127.0.0.1, in a thread of this process."""
    from werkzeug.serving import make_server
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()
    thread.join(10)


@pytest.fixture
def utils_runs(fresh_databases, flask_cli, mara_db_query):
    """Two runs of the utils pipeline in fresh databases: {run_id: (start time in ms, duration in s)}, as the
    run-time chart's query rounds them. Each run samples system statistics several times a second."""
    for _ in range(2):
        result = flask_cli('mara-pipelines', 'run', '--path', 'utils', '--disable-colors')
        assert result.returncode == 0, result.stdout + result.stderr
    return {run_id: (start, float(duration)) for run_id, start, duration in mara_db_query(
        "SELECT run_id, floor(extract(EPOCH FROM start_time) * 1000)::BIGINT, "  # JavaScript dates have milliseconds
        "       round(extract(EPOCH FROM end_time - start_time)::NUMERIC, 2) "
        "FROM data_integration_node_run WHERE node_path = '{utils}' AND succeeded ORDER BY run_id")}


# A chart's canvas and container, whether anything was painted, its points and axis labels
CHART_STATE = """containerId => {
    const container = document.getElementById(containerId);
    const canvas = container && container.querySelector('canvas');
    const chart = canvas && Chart.getChart(canvas);
    if (!chart) {
        return null;
    }
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) {
        painted += pixels[i] > 0 ? 1 : 0;
    }
    const box = element => {
        const rect = element.getBoundingClientRect();
        return {width: rect.width, height: rect.height};
    };
    return {canvas: box(canvas), container: box(container), painted: painted,
            series: chart.data.datasets.map(dataset => [dataset.label, dataset.data.map(point => [point.x, point.y])]),
            xAxis: chart.scales.x.type, yLabels: chart.scales.y ? chart.scales.y.ticks.map(tick => tick.label) : null,
            legend: chart.options.plugins.legend.display};
}"""

# Moves the mouse to a point of a dataset and returns the page position of the point
POINT = """([containerId, dataset, index]) => {
    const canvas = document.querySelector('#' + containerId + ' canvas');
    canvas.scrollIntoView({block: 'center'});
    const element = Chart.getChart(canvas).getDatasetMeta(dataset).data[index];
    const rect = canvas.getBoundingClientRect();
    return {x: rect.left + element.x, y: rect.top + element.y};
}"""

TOOLTIP = """containerId => {
    const tooltip = Chart.getChart(document.querySelector('#' + containerId + ' canvas')).tooltip;
    return tooltip.opacity > 0 ? tooltip.body.map(item => item.lines.join(' ')) : null;
}"""


def _wait_for_chart(page, container: str) -> dict:
    page.wait_for_function('id => { const canvas = document.querySelector("#" + id + " canvas");'
                           '        return canvas && canvas.width > 0 && canvas.height > 0; }',
                           arg=container, timeout=30000)
    page.wait_for_load_state('networkidle')
    state = page.evaluate(CHART_STATE, container)
    canvas, box = state['canvas'], state['container']
    assert canvas['width'] > 100 and canvas['height'] > 50, state
    assert abs(canvas['width'] - box['width']) <= 1 and abs(canvas['height'] - box['height']) <= 1, state  # sized
    assert state['painted'] > 500 and state['xAxis'] == 'time', state
    return state


def _hover(page, container: str, dataset: int, index: int) -> list[str]:
    point = page.evaluate(POINT, [container, dataset, index])
    page.mouse.move(point['x'], point['y'])
    page.wait_for_function(f'() => ({TOOLTIP})("{container}") !== null', timeout=5000)
    return page.evaluate(TOOLTIP, container)


# The system statistics of a run of utils, in the order of MEASURES, with the time as a JavaScript date has it
STATISTICS = f"""
SELECT floor(extract(EPOCH FROM stats.timestamp) * 1000)::BIGINT, {', '.join(f'stats.{c}' for c in STATISTICS_COLUMNS)}
FROM data_integration_node_run nr
JOIN data_integration_system_statistics stats ON stats.run_id = nr.run_id
                                              AND stats.timestamp BETWEEN nr.start_time AND nr.end_time
WHERE nr.run_id = %s AND nr.node_path = '{{utils}}' ORDER BY stats.timestamp"""


def _measurements(rows) -> list[list]:
    """The series of the system-stats chart, from rows of [time in ms, *STATISTICS_COLUMNS]."""
    return [[measure, [[row[0], row[1 + column]] for row in rows]] for column, measure in enumerate(MEASURES)]


def test_both_charts_draw_the_real_runs_offline(app, utils_runs, server_url, mara_db_query):
    latest, older = max(utils_runs), min(utils_runs)
    statistics, older_statistics = (mara_db_query(STATISTICS, (run_id,)) for run_id in (latest, older))
    assert len(statistics) >= 2 and any(row[1] for row in statistics), statistics
    logged = [json.loads(entry.data) for entry in event_log.read(event_log.path(latest))
              if entry.event == 'SystemStatistics']
    assert len(logged) >= 2, logged

    with chromium() as browser:
        page = new_page(browser, server_url, height=1300)
        page.goto('/pipelines/utils')
        run_time, system_stats = (_wait_for_chart(page, container) for container in
                                  ['run-time-chart', 'system-stats-chart'])
        # one point per run, at its start, with its duration; the duration axis in mara's labels
        assert run_time['series'][0] == ['utils', [[start, duration] for start, duration in utils_runs.values()]]
        assert {name for name, _ in run_time['series'][1:]} == {'initialize_utils', 'create_time_dimension'}
        assert run_time['yLabels'][0] in ('0ms', '0s') and all(re.fullmatch(r'\d+(ms|s)', label)
                                                                for label in run_time['yLabels']), run_time
        assert not run_time['legend'] and system_stats['legend']
        # every measurement of the latest run, each column in its own series
        assert system_stats['series'] == _measurements(statistics)

        # the tooltips: the run's outcome and duration as mara formats it; the measurements at a moment
        duration = page.evaluate(f'formatDuration({round(1000 * utils_runs[older][1])})')
        assert _hover(page, 'run-time-chart', 0, 0) == [f'utils: succeeded, {duration}']
        cpu = re.fullmatch(r'CPU: (\d+\.\d) %', _hover(page, 'system-stats-chart', 0, 1)[0])
        assert float(cpu[1]) == pytest.approx(statistics[1][1], abs=0.05), (cpu[0], statistics[1])
        # a click on the point of the older run switches the last-runs card to that run, with its statistics
        point = page.evaluate(POINT, ['run-time-chart', 0, 0])
        page.mouse.click(point['x'], point['y'])
        page.wait_for_function(f"() => $('#last-runs-selector').val() === '{older}'", timeout=10000)
        page.wait_for_function('points => { const canvas = document.querySelector("#system-stats-chart canvas");'
                               '            const chart = canvas && Chart.getChart(canvas);'
                               '            return chart && chart.data.datasets[0].data.length === points; }',
                               arg=len(older_statistics), timeout=10000)
        assert _wait_for_chart(page, 'system-stats-chart')['series'] == _measurements(older_statistics)

        # the run's page draws the statistics one event after the other, from the run's log
        page.goto(f'/runs/{latest}')
        page.locator('body.run-finished').wait_for(state='attached', timeout=30000)
        live = _wait_for_chart(page, 'system-stats-chart')
        assert live['series'] == _measurements(
            [[_milliseconds(event['timestamp'])] + [event[column] for column in STATISTICS_COLUMNS]
             for event in logged]), live
        assert not page.problems.all(), page.problems
        assert page.problems.external_requests == []
        page.context.close()


def _milliseconds(timestamp: str) -> int:
    """An ISO time of the run's log as a JavaScript date has it."""
    time = datetime.datetime.fromisoformat(timestamp)
    return calendar.timegm(time.utctimetuple()) * 1000 + time.microsecond // 1000
