"""The web UI in headless Chromium, served by gunicorn on 127.0.0.1, after real ETL runs on sample data (a small
sample of the standard days, in a warehouse of its own: a test runs a pipeline in it).

Each page is checked for what a user sees: the dependency graph (graphviz SVG), the charts (drawn with
Chart.js by app/ui/static/charts), the node table, the SQL of a task, the star schemas, the settings, and no
console errors nor requests to other hosts. A run of a real pipeline is started by clicking (run control itself,
with pipelines of its own, is tested in tests/ui/test_runs_browser.py).
"""

import re

import pytest

from app.pipelines import root_pipeline
from app.sample_data import generator
from tests.browser import chart_points, new_page
from tests.support.servers import first_sql_task, gunicorn
from tests.support.warehouse import assert_succeeded, built_from_sample, newest_day_file, run_etl

STAR_SCHEMAS = ['pp_dim', 'pypi_dim', 'gh_dim', 'time']


def _pipelines(node, path=()):
    """(url path, pipeline) of every pipeline below a node."""
    for child in getattr(node, 'nodes', {}).values():
        if hasattr(child, 'nodes'):
            yield '/'.join((*path, child.id)), child
            yield from _pipelines(child, (*path, child.id))


@pytest.fixture(scope='module')
def history(databases, tmp_path_factory):
    """The warehouse, built twice (run time charts need two runs)."""
    with built_from_sample('test_browser', tmp_path_factory.mktemp('browser-sample'),
                           '--pypi-rows', str(generator.MIN_ROWS), '--github-rows', str(generator.MIN_ROWS)) as built:
        assert_succeeded(run_etl(built.data_dir, **built.env))
        yield built


@pytest.fixture(scope='module')
def server(history):
    with gunicorn(env=history.settings) as base_url:
        yield base_url


@pytest.fixture
def page(browser, server):
    page = new_page(browser, server)
    yield page
    page.context.close()


def _open(page, path: str):
    page.goto(path)
    page.wait_for_load_state('networkidle')
    return page


def _no_problems(page):
    assert not page.problems.all(), page.problems
    assert not page.problems.external_requests, page.problems


def select_schemas(page, db_alias: str, schemas: list, engine: str) -> None:
    """What ticking the schemas' boxes stores (ticking them one by one races their drawings)."""
    page.evaluate("""([alias, schemas, engine]) => {
        document.querySelectorAll('.schema-checkbox').forEach(box => localStorage.setItem(
            'db-schema-' + alias + '-' + box.value, schemas.includes(box.value)));
        localStorage.setItem('db-schema-engine', engine);
    }""", [db_alias, schemas, engine])


def _graph_nodes(page) -> list:
    return page.locator('svg g.node > title').all_text_contents()


def test_the_root_and_every_pipeline_page(page, history):
    for path, pipeline in [('', root_pipeline()), *_pipelines(root_pipeline())]:
        _open(page, f'/pipelines/{path}'.rstrip('/'))
        children = [id for id, node in pipeline.nodes.items()
                    if node not in (pipeline.initial_node, pipeline.final_node)]
        assert set(children) <= set(_graph_nodes(page)), (path, _graph_nodes(page))
        assert chart_points(page, '#run-time-chart') >= 2, path
        node_table = page.locator('.card', has=page.locator('.card-header-left', has_text='Nodes'))
        assert node_table.locator('tbody tr').count() == len(children), path
        assert page.locator('#timeline-chart .timeline-node').count() >= 1, path
        assert page.locator('#run-output > div').count() > 1, path
        assert page.locator('#last-runs-selector option').count() >= 2, path
        _no_problems(page)


def test_a_task_page_shows_its_neighbours_run_times_and_sql(page, history):
    path, task, sql = first_sql_task()
    _open(page, f'/pipelines/{path}')
    graph = _graph_nodes(page)
    assert task.id in graph and all(node.id in graph for node in task.upstreams | task.downstreams), graph
    assert chart_points(page, '#run-time-chart') >= 2
    commands = page.locator('.card', has=page.locator('.card-header-left', has_text='Commands'))
    first_sql_line = next(line.strip() for line in sql.split('\n') if line.strip() and not line.startswith('--'))
    assert commands.get_by_text(first_sql_line, exact=False).first.is_visible(), first_sql_line
    assert page.locator('#run-output > div').count() > 1
    _no_problems(page)


def test_a_task_page_shows_the_system_statistics_of_its_last_run(page, history):
    _open(page, f'/pipelines/{first_sql_task()[0]}')  # however short the task ran
    assert chart_points(page, '#system-stats-chart') >= 1
    _no_problems(page)


def test_the_db_schema_page_draws_the_star_schemas(page, history):
    _open(page, '/db/dwh')
    assert set(STAR_SCHEMAS) <= set(page.locator('.schema-checkbox').evaluate_all('boxes => boxes.map(b => b.value)'))
    select_schemas(page, 'dwh', STAR_SCHEMAS, engine='dot')
    _open(page, '/db/dwh')
    svg = page.locator('#schema-container svg')
    svg.wait_for()
    tables = svg.locator('g.node > title').all_text_contents()
    for table in ('pp_dim.python_project_activity', 'pypi_dim.project', 'gh_dim.repo', 'time.day'):
        assert table in tables, tables
    assert svg.locator('g.edge').count() >= 4  # the foreign keys
    _no_problems(page)


def test_the_configuration_page_lists_the_project_settings(page, history):
    _open(page, '/mara-app/configuration')
    text = page.locator('#mara-main').inner_text().replace('\u200b', '')
    assert 'app.config' in text
    for setting in ('data_dir', 'first_date', 'dwh_db', 'allow_run_from_web_ui', 'max_parallel_tasks'):
        assert setting in text, setting
    _no_problems(page)


def test_the_acl_page(page, history):
    _open(page, '/acl')
    assert page.locator('#mara-main table').count() >= 1
    text = page.locator('#mara-main').inner_text()
    assert 'guest@localhost' in text and 'Admin' in text and 'All' in text, text  # users, roles, resources
    _no_problems(page)


def test_the_navigation_bar_highlights_the_current_page(page, history):
    """Works only with Popper loaded (see Bug 3 in app/mara_fixes.py)."""
    _open(page, '/pipelines/utils')
    page.locator('#mara-navigation .mara-nav-entry.highlighted').first.wait_for()
    assert 'Pipelines' in page.locator('#mara-navigation .mara-nav-entry.highlighted').first.inner_text()
    _no_problems(page)


def test_a_whole_pipeline_runs_from_its_page(page, history):
    pipeline = root_pipeline().nodes['github']
    _open(page, f'/pipelines/{pipeline.id}')
    page.locator('#mara-page-header .action-buttons a', has_text='Run').click()
    page.wait_for_url(re.compile(rf'/runs/new\?path={pipeline.id}&'))
    page.locator('#start-form button').click()
    page.wait_for_url(re.compile(r'/runs/\d+$'))
    page.locator('#run-status', has_text='succeeded').wait_for(timeout=180_000)
    output = page.locator('#main-output-area').inner_text()
    assert re.search(r'Run succeeded: (\d+) of \1 tasks succeeded\.', output), output[-2000:]
    assert page.locator('#failed-tasks-container .card').count() == 0
    assert page.locator('#cancel-form').is_hidden()
    assert page.locator('#timeline-chart .timeline-node').count() >= len(pipeline.nodes)
    _no_problems(page)


def test_without_permission_there_is_no_run_button_and_no_run(browser, history):
    with gunicorn(workers=1, env={**history.settings, 'ALLOW_RUN_FROM_WEB_UI': 'false'}) as base_url:
        page = new_page(browser, base_url)
        _open(page, '/pipelines/github')
        assert page.locator('#mara-page-header .action-buttons a', has_text='Run').count() == 0
        assert page.locator('#run-button').count() == 0
        response = page.goto('/pipelines/github/run-')
        assert response.status == 403
        assert 'disabled' in page.content()
        page.context.close()


def test_the_run_page_shows_how_far_a_step_over_many_days_got(browser, history):
    """Two GitHub files changed, the second not gzip: one task loads them in order (MAX_PARALLEL_TASKS=1), and the
    run's header shows the load's progress after the first file, which stays there, stopped, when the second fails."""
    import datetime

    from app import data_sets
    changed, broken = (newest_day_file(history.data_dir, data_sets.GITHUB, day)
                       for day in (history.last_day - datetime.timedelta(days=1), history.last_day))
    originals = {path: path.read_bytes() for path in (changed, broken)}
    try:
        rows = generator.write_file(changed, 'github', history.last_day - datetime.timedelta(days=1),
                                    generator.MIN_ROWS + 3, seed=99).rows
        broken.write_bytes(b'not gzip\n')
        with gunicorn(workers=1, env={**history.settings, 'MAX_PARALLEL_TASKS': '1'}) as base_url:
            page = new_page(browser, base_url)
            _open(page, '/runs/new?path=github')
            page.locator('#start-form button').click()
            page.wait_for_url(re.compile(r'/runs/\d+$'))
            page.locator('#run-status', has_text='failed').wait_for(timeout=180_000)
            assert re.fullmatch(rf'read_repo_activity: 1 of 2 days \(50 %\), {rows} rows in \d+ s.*, stopped',
                                page.locator('#run-progress').inner_text()), page.locator('#run-progress').inner_text()
            page.context.close()
    finally:
        for path, content in originals.items():
            path.write_bytes(content)
