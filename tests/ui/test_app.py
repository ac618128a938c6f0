"""The Flask app: it builds the root pipeline, and every page of the web UI renders its content."""

import re

import app.config
from app.pipelines import PIPELINES, root_pipeline


def _all_nodes(node):
    yield node
    for child in getattr(node, 'nodes', {}).values():
        yield from _all_nodes(child)


def test_root_pipeline_has_every_registered_pipeline(app):
    assert list(root_pipeline().nodes) == [package for package, _ in PIPELINES]


def test_every_node_has_a_lowercase_id_and_a_one_sentence_description(app):
    for node in _all_nodes(root_pipeline()):
        assert re.fullmatch(r'[a-z0-9_]+', node.id), node.id
        # one sentence: starts upper-case, ends with a full stop, no sentence break inside
        assert re.fullmatch(r'[A-Z].*\.', node.description), (node.id, node.description)
        assert not re.search(r'[.!?]\s+[A-Z]', node.description), (node.id, node.description)


def _get(client, url: str, content_type: str = 'text/html') -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response.content_type.startswith(content_type), (url, response.content_type)
    return response.get_data(as_text=True)


def test_start_page_redirects_to_pipelines(client):
    response = client.get('/')
    assert (response.status_code, response.location) == (302, '/pipelines')


def test_navigation_bar(client):
    html = _get(client, '/mara-app/navigation-bar')
    entry_text = r'<div class="mara-nav-entry level-1".*?<div class="mara-nav-entry-text">([^<]+)</div>'
    top_level = re.findall(entry_text, html)
    assert top_level == ['Pipelines', 'Runs', 'Data quality', 'DB Schema', 'Configuration', 'ACL']


def test_pipeline_pages(client, utils_run):
    assert 'Root pipeline' in _get(client, '/pipelines') or 'example_project' in _get(client, '/pipelines')
    page = _get(client, '/pipelines/utils')
    assert 'Creates the SQL helpers of schema util and the time dimension.' in page
    assert '/app-ui/static/app.css' in page and '/app-ui/static/logo.svg' in page
    assert '<svg' in _get(client, '/pipelines/utils/dependency-graph')
    children = _get(client, '/pipelines/utils/pipeline-children-table')
    assert 'initialize_utils' in children and 'create_time_dimension' in children
    chart = _get(client, '/pipelines/utils/run-time-chart')
    assert 'Not enough data' in chart or 'drawRunTimeChart' in chart
    _get(client, f'/pipelines/utils/system-stats/{utils_run}')
    assert 'INSERT 0 30' in _get(client, f'/pipelines/utils/create_time_dimension/run-output/{utils_run}')


def test_task_page_shows_its_sql(client, utils_run):
    page = _get(client, '/pipelines/utils/create_time_dimension')
    assert 'Adds the days from FIRST_DATE until LAST_DATE to time.day and removes those outside.' in page
    assert 'create_time_dimension.sql' in page
    assert 'replace_schema' in page and 'generate_series' in page  # the SQL file's content is shown


def test_db_schema_pages(client, utils_run):
    assert 'dwh' in _get(client, '/db/')
    _get(client, '/db/dwh')
    _get(client, '/db/dwh/.schemas')  # lists the schemas that have foreign keys
    assert '<svg' in _get(client, '/db/dwh/time')


def test_configuration_page_lists_the_project_settings(client):
    page = _get(client, '/mara-app/configuration').replace('_<wbr/>', '_')
    assert 'app.config' in page
    for name in ('data_dir', 'first_date', 'dwh_db', 'mara_db', 'max_parallel_tasks', 'allow_run_from_web_ui'):
        assert name in page, name
    assert 'Where the per-day CSV files live (DATA_DIR, default ./data).' in page
    assert app.config.dwh_db() in page
    assert 'error calling function' not in page


def test_acl_page(client):
    page = _get(client, '/acl')
    assert 'guest@localhost' in page or 'Users' in page
    for resource in ('Pipelines', 'DB Schema', 'Configuration'):
        assert resource in page, resource


def test_project_assets_are_served(client):
    for name, content_type in (('logo.svg', 'image/svg+xml'), ('favicon.png', 'image/png'), ('app.css', 'text/css')):
        response = client.get(f'/app-ui/static/{name}')
        assert (response.status_code, response.content_type.split(';')[0]) == (200, content_type), name
