"""mara-pipelines' charts work offline: Google's chart loader is replaced by Chart.js and a shim of the
Google Charts API (app/ui/static/charts, served by the js_files wrap in app/wiring.py).

The browser test runs the app on a free local port, opens the utils pipeline page in headless Chromium, refuses
every request that does not go to 127.0.0.1 and checks that the run-time chart and the system-statistics chart
are drawn, without console errors, and that clicking a point of the run-time chart selects that run.
"""

import os
import threading
import urllib.parse

import pytest

GSTATIC_LOADER = 'https://www.gstatic.com/charts/loader.js'
CHART_SCRIPTS = ['/app-ui/static/charts/chart.umd.min.js', '/app-ui/static/charts/google-charts-shim.js']
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run']
SCREENSHOTS = '/tmp/test_charts_offline-{}.png'  # one per chart, to look at


def test_pages_load_chart_js_and_the_shim_instead_of_google(client):
    for url in ['/pipelines/utils', '/runs']:  # a node page and the Runs page
        html = client.get(url).get_data(as_text=True)
        assert 'gstatic.com' not in html, url
        positions = [html.find(f'<script src="{script}?') for script in CHART_SCRIPTS]
        assert -1 < positions[0] < positions[1] < html.find('system-stats-chart.js'), url
    for script in CHART_SCRIPTS:
        response = client.get(script)
        assert response.status_code == 200 and 'javascript' in response.content_type, script
        response.close()


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
    """Two runs of the utils pipeline in fresh databases, so that the run-time chart shows exactly these;
    returns {run_id: start time in ms}. Each run samples system statistics several times a second.
    """
    for _ in range(2):
        result = flask_cli('mara-pipelines', 'run', '--path', 'utils', '--disable-colors')
        assert result.returncode == 0, result.stdout + result.stderr
    runs = dict(mara_db_query("SELECT run_id, (extract(EPOCH FROM start_time) * 1000)::FLOAT "
                              "FROM data_integration_node_run WHERE node_path = '{utils}' AND succeeded IS NOT NULL"))
    latest_run = max(runs)
    statistics = """
    FROM data_integration_node_run nr
    JOIN data_integration_system_statistics stats ON stats.timestamp BETWEEN nr.start_time AND nr.end_time
    WHERE nr.run_id = %s AND nr.node_path = '{utils}'"""
    assert mara_db_query('SELECT count(*)' + statistics, (latest_run,))[0][0] >= 2
    return runs


# The size of a chart's canvas and of its container, and whether anything was painted on the canvas
CHART_STATE = """containerId => {
    const container = document.getElementById(containerId);
    const canvas = container && container.querySelector('canvas');
    if (!canvas) {
        return null;
    }
    const chart = Chart.getChart(canvas);
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) {
        painted += pixels[i] > 0 ? 1 : 0;
    }
    const box = element => {
        const rect = element.getBoundingClientRect();
        return {left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom,
                width: rect.width, height: rect.height};
    };
    return {canvas: box(canvas), container: box(container), painted: painted,
            series: chart.data.datasets.map(dataset => [dataset.label, dataset.data.length]),
            legend: chart.options.plugins.legend.display};
}"""

# Draws a chart of its own with the shim, clicks its second point and reports selection and 'select' events
SELECTION_CHECK = """async () => {
    const div = document.createElement('div');
    div.style.cssText = 'position: fixed; left: 100px; top: 100px; width: 400px; height: 150px; z-index: 9999';
    document.body.appendChild(div);
    await google.charts.load('current', {packages: ['corechart']});
    const data = new google.visualization.DataTable();
    data.addColumn('datetime', 'Time');
    data.addColumn('number', 'Duration');
    data.addColumn({type: 'boolean', role: 'certainty'});
    data.addColumn('number', 'Other');
    data.addRows([[new Date('2024-01-01T10:00:00Z'), 1, true, 2],
                  ['2024-01-02T10:00:00Z', {v: 3, f: 'three'}, false, null],
                  [new Date('2024-01-03T10:00:00Z'), 2, true, 1]]);
    const chart = new google.visualization.LineChart(div);
    chart.draw(data, {legend: {position: 'off'}, series: {0: {color: '#0275d8'}}, vAxis: {viewWindow: {min: 0}}});
    const events = [];
    google.visualization.events.addListener(chart, 'select', () => events.push(chart.getSelection()));
    const canvas = div.querySelector('canvas');
    const point = Chart.getChart(canvas).getDatasetMeta(0).data[1];
    const rect = canvas.getBoundingClientRect();
    window.__selectionCheck = {chart: chart, events: events};
    return {x: rect.left + point.x, y: rect.top + point.y, range: data.getColumnRange(1),
            formatted: data.getFormattedValue(1, 1), canvasWidth: canvas.width};
}"""


def test_charts_render_offline(app, utils_runs, server_url, tmp_path):
    sync_api = pytest.importorskip('playwright.sync_api')
    if not os.path.exists(CHROMIUM):
        pytest.skip(f'{CHROMIUM} is not installed')

    external_requests, console_errors = [], []

    def route(route):
        if urllib.parse.urlsplit(route.request.url).hostname == '127.0.0.1':
            route.continue_()
        else:
            external_requests.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={'width': 1400, 'height': 1300})
            page.route('**/*', route)
            page.on('console', lambda message: message.type == 'error' and console_errors.append(message.text))
            page.on('pageerror', lambda error: console_errors.append(str(error)))

            page.goto(f'{server_url}/pipelines/utils', wait_until='load')
            # both charts arrive with content that the page loads asynchronously
            for container in ['run-time-chart', 'system-stats-chart']:
                page.wait_for_function(
                    """id => { const canvas = document.querySelector('#' + id + ' canvas');
                               return canvas && canvas.width > 0 && canvas.height > 0; }""",
                    arg=container, timeout=30000)
            page.wait_for_timeout(500)  # the fade-in of the loaded content
            for container in ['run-time-chart', 'system-stats-chart']:
                page.locator(f'#{container}').screenshot(path=SCREENSHOTS.format(container))

            run_time, system_stats = (page.evaluate(CHART_STATE, container)
                                      for container in ['run-time-chart', 'system-stats-chart'])
            for state in [run_time, system_stats]:
                canvas, container = state['canvas'], state['container']
                assert canvas['width'] > 100 and canvas['height'] > 50, state
                # sized to its container
                assert abs(canvas['width'] - container['width']) <= 1, state
                assert abs(canvas['height'] - container['height']) <= 1, state
                assert state['painted'] > 500, state
            assert run_time['series'][0] == ['utils', len(utils_runs)], run_time
            assert not run_time['legend'] and system_stats['legend']
            assert [label for label, _ in system_stats['series']] == \
                ['CPU', 'Disc read', 'Disc write', 'Net in', 'Net out', 'Mem', 'Swap', 'IOWait']
            assert all(points >= 2 for _, points in system_stats['series']), system_stats

            # a click on the point of the older run switches the last-runs card to that run
            older_run = min(utils_runs)
            point = page.evaluate("""startTime => {
                const canvas = document.querySelector('#run-time-chart canvas');
                canvas.scrollIntoView({block: 'center'});
                const chart = Chart.getChart(canvas);
                const index = chart.data.datasets[0].data.findIndex(p => Math.abs(p.x - startTime) < 1);
                const element = chart.getDatasetMeta(0).data[index];
                const rect = canvas.getBoundingClientRect();
                return index < 0 ? null : {x: rect.left + element.x, y: rect.top + element.y};
            }""", utils_runs[older_run])
            assert point, 'no point for the older run in the run-time chart'
            page.mouse.click(point['x'], point['y'])
            page.wait_for_function(f"() => $('#last-runs-selector').val() === '{older_run}'", timeout=10000)

            # getSelection() and 'select' events, on a chart drawn with the shim
            own_chart = page.evaluate(SELECTION_CHECK)
            assert own_chart['range'] == {'min': 1, 'max': 3} and own_chart['formatted'] == 'three'
            assert own_chart['canvasWidth'] > 0
            # Chart.js handles mouse events in the next animation frame
            select_events = 'count => window.__selectionCheck.events.length >= count'
            page.mouse.click(own_chart['x'], own_chart['y'])
            page.wait_for_function(select_events, arg=1, timeout=5000)
            assert page.evaluate('() => window.__selectionCheck.events') == [[{'row': 1, 'column': 1}]]
            page.mouse.click(own_chart['x'], own_chart['y'])  # a second click unselects
            page.wait_for_function(select_events, arg=2, timeout=5000)
            assert page.evaluate('() => window.__selectionCheck.events') == [[{'row': 1, 'column': 1}], []]
            assert page.evaluate('() => window.__selectionCheck.chart.getSelection()') == []
            page.wait_for_timeout(300)
        finally:
            browser.close()

    assert external_requests == []
    assert console_errors == []
