"""The Flask app: it builds the root pipeline, and every page of the web UI renders its content."""

import json
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


def test_pipeline_pages(client, flask_cli, mara_db_query, utils_run):
    root = _get(client, '/pipelines')
    assert '<h1>Root pipeline</h1>' in root and f'<em>{root_pipeline().description}</em>' in root
    page = _get(client, '/pipelines/utils')
    assert 'Creates the SQL helpers of schema util and the time dimension.' in page
    assert '/app-ui/static/app.css' in page and '/app-ui/static/logo.svg' in page
    assert '<svg' in _get(client, '/pipelines/utils/dependency-graph')
    children = _get(client, '/pipelines/utils/pipeline-children-table')
    assert 'initialize_utils' in children and 'create_time_dimension' in children
    assert 'INSERT 0 30' in _get(client, f'/pipelines/utils/create_time_dimension/run-output/{utils_run}')

    # the system statistics of the run: every measurement taken while the pipeline ran
    (start, end), = mara_db_query("SELECT start_time, end_time FROM data_integration_node_run "
                                  "WHERE run_id = %s AND node_path = '{utils}'", (utils_run,))
    measured = [moment.isoformat() for (moment,) in mara_db_query(
        'SELECT timestamp FROM data_integration_system_statistics WHERE run_id = %s ORDER BY 1', (utils_run,))
        if start <= moment <= end]
    stats = _get(client, f'/pipelines/utils/system-stats/{utils_run}')
    shown = json.loads(re.search(r'nodePage\.showSystemStats\((\[.*\])\);', stats)[1])
    assert measured and [row[0] for row in shown] == measured

    # the run time chart draws one point per run: a second one (of one task) makes sure that there are two
    assert flask_cli('mara-pipelines', 'run', '--path', 'utils', '--nodes', 'initialize_utils').returncode == 0
    (second,), = mara_db_query('SELECT max(run_id) FROM data_integration_run')
    chart = _get(client, '/pipelines/utils/run-time-chart')
    points = {point['run_id']: point for point in
              json.loads(re.search(r"drawRunTimeChart\('run-time-chart', 'utils', (\[.*\])\);", chart)[1])}
    (duration,), = mara_db_query("SELECT round(extract(EPOCH FROM end_time - start_time)::NUMERIC, 2) "
                                 "FROM data_integration_node_run WHERE run_id = %s AND node_path = '{utils}'",
                                 (utils_run,))
    assert points[utils_run]['node_run'] == {'duration': float(duration), 'succeeded': True}
    assert sorted(points[utils_run]['child_names']) == ['create_time_dimension', 'initialize_utils']
    assert points[second]['node_run'] is None and points[second]['child_runs'].count(None) == 1  # one task ran


def test_task_page_shows_its_sql(client, utils_run):
    page = _get(client, '/pipelines/utils/create_time_dimension')
    assert 'Adds the days from FIRST_DATE until LAST_DATE to time.day and removes those outside.' in page
    assert 'create_time_dimension.sql' in page
    assert 'replace_schema' in page and 'generate_series' in page  # the SQL file's content is shown


def test_db_schema_pages(client, utils_run, dwh):
    databases = _get(client, '/db/')
    assert '<a href="/db/dwh">' in databases and '<a href="/db/mara">' in databases
    page = _get(client, '/db/dwh')
    assert '<h1>Schema of database dwh</h1>' in page and "'/db/dwh/.schemas'" in page  # loads the selection
    dwh('DROP SCHEMA IF EXISTS page_demo CASCADE; CREATE SCHEMA page_demo; '
        'CREATE TABLE page_demo.parent (id INT PRIMARY KEY); '
        'CREATE TABLE page_demo.child (parent_fk INT REFERENCES page_demo.parent (id))')
    try:
        selection = _get(client, '/db/dwh/.schemas')  # the schemas that have foreign keys
        assert 'value="page_demo"' in selection, selection
        diagram = _get(client, '/db/dwh/page_demo')
        assert '<svg' in diagram and 'page_demo.parent' in diagram and 'page_demo.child' in diagram
    finally:
        dwh('DROP SCHEMA page_demo CASCADE')
    assert '<svg' in _get(client, '/db/dwh/time')


def test_configuration_page_lists_the_project_settings(client):
    page = _get(client, '/mara-app/configuration').replace('_<wbr/>', '_')
    assert 'app.config' in page
    for name in ('data_dir', 'first_date', 'dwh_db', 'mara_db', 'max_parallel_tasks', 'allow_run_from_web_ui'):
        assert name in page, name
    assert 'Where the per-day CSV files live (DATA_DIR, default ./data).' in page
    assert app.config.dwh_db() in page
    assert 'error calling function' not in page


def _names(resource: dict) -> set:
    return {resource.get('name'), *(name for child in resource['children'] for name in _names(child))}


def test_acl_page(client, mara_db_query):
    page = _get(client, '/acl')
    users = dict(mara_db_query('SELECT email, role FROM acl_user'))
    assert 'guest@localhost' in users  # the development server's user, added by this request
    roles = json.loads(re.search(r'var roles = (\{.*\});', page)[1])
    assert {email: role['name'] for role in roles.values() for email in role['users'].values()} == users
    resources = _names(json.loads(re.search(r'var resources = (\{.*\});', page)[1]))
    for resource in ('Pipelines', 'DB Schema', 'Configuration'):
        assert resource in resources, resources


def test_project_assets_are_served(client):
    for name, content_type in (('logo.svg', 'image/svg+xml'), ('favicon.png', 'image/png'), ('app.css', 'text/css')):
        response = client.get(f'/app-ui/static/{name}')
        assert (response.status_code, response.content_type.split(';')[0]) == (200, content_type), name
