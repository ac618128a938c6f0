"""Each workaround in app/mara_fixes.py: the bug is still there without it, and gone with it.

When a newer pinned mara version fixes a bug, the "still there" test fails: then drop the workaround.
"""

import gzip
import pathlib

import pytest
from mara_pipelines import pipelines
from mara_pipelines.commands.bash import RunBash
from mara_pipelines.commands.files import Compression
from mara_pipelines.parallel_tasks import files as parallel_files

import app  # noqa: F401  (applies the fixes)


def test_task_from_a_list_accepts_more_commands():
    task = pipelines.Task(id='t', description='A task.', commands=[RunBash('true')])
    task.add_command(RunBash('echo 2'))
    task.add_commands([RunBash('echo 3')])
    assert [command.command for command in task.commands] == ['true', 'echo 2', 'echo 3']


def test_task_bug_is_still_in_the_pinned_version(monkeypatch):
    monkeypatch.delattr(pipelines.Task, '_Task__dynamic_commands_generator_func')
    task = pipelines.Task(id='t', description='A task.', commands=[RunBash('true')])
    with pytest.raises(AttributeError, match='_Task__dynamic_commands_generator_func'):
        task.add_command(RunBash('echo 2'))


def _read_files_pipeline(data_dir: pathlib.Path) -> pipelines.Pipeline:
    (data_dir / '2018' / '04' / '10').mkdir(parents=True)
    with gzip.open(data_dir / '2018' / '04' / '10' / 'numbers.csv.gz', 'wt') as file:
        file.write('day_id\tn\n20180410\t1\n20180410\t2\n')
    pipeline = pipelines.Pipeline(id='fix_test', description='Reads a file.',
                                  base_path=pathlib.Path(__file__).parent)
    pipeline.add(parallel_files.ParallelReadFile(
        id='read', description='Reads numbers.', file_pattern='*/*/*/numbers.csv.gz',
        read_mode=parallel_files.ReadMode.ONLY_NEW, compression=Compression.GZIP, target_table='fix_test.numbers',
        date_regex=r'^(\d{4})/(\d{2})/(\d{2})/', partition_target_table_by_day_id=True,
        file_dependencies=['conftest.py'], csv_format=True, delimiter_char='\t', skip_header=True))
    return pipeline


def test_parallel_read_file_with_file_dependencies_and_partitions(databases, data_dir, dwh, mara_db_query):
    from mara_pipelines.cli import run_pipeline
    dwh('DROP SCHEMA IF EXISTS fix_test CASCADE; CREATE SCHEMA fix_test; '
        'CREATE TABLE fix_test.numbers (day_id INT, n INT) PARTITION BY LIST (day_id)')
    assert run_pipeline(_read_files_pipeline(data_dir), disable_colors=True)
    assert dwh('SELECT day_id, sum(n) FROM fix_test.numbers_20180410 GROUP BY 1') == [(20180410, 3)]
    assert mara_db_query("SELECT dependency_type FROM data_integration_file_dependency "
                         "WHERE node_path = ARRAY['read']") == [('ParallelReadFile',)]
    dwh('DROP SCHEMA fix_test CASCADE')


def test_parallel_read_file_bug_is_still_in_the_pinned_version(databases, data_dir, monkeypatch):
    from app import mara_fixes
    monkeypatch.setattr(parallel_files._ParallelRead, 'add_parallel_tasks', mara_fixes._original_add_parallel_tasks)
    task = _read_files_pipeline(data_dir).nodes['read']
    mara_db_reset = 'DELETE FROM data_integration_file_dependency'
    import mara_db.dbs
    with mara_db.dbs.cursor_context('mara') as cursor:
        cursor.execute(mara_db_reset)
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'commands'"):
        task.launch()


def test_stored_system_statistics_come_in_the_charts_order(client, flask_cli, mara_db_query):
    result = flask_cli('mara-pipelines', 'run', '--path', 'utils')
    assert result.returncode == 0, result.stdout + result.stderr
    (run_id,) = mara_db_query("SELECT max(run_id) FROM data_integration_node_run WHERE node_path = '{utils}'")[0]
    # 15 measurements (mara's minimum for a chart) with a different value per measure
    mara_db_query("""
INSERT INTO data_integration_system_statistics
  (timestamp, run_id, disc_read, disc_write, net_recv, net_sent, cpu_usage, mem_usage, swap_usage, iowait)
SELECT start_time + (end_time - start_time) * i / 16, run_id, 1, 2, 3, 4, 5, 6, 7, 8
FROM data_integration_node_run, generate_series(1, 15) i
WHERE run_id = %s AND node_path = '{utils}'""", (run_id,))

    def rows(html: str) -> list:
        import json
        import re
        return [row[1:] for row in json.loads(re.search(r'showSystemStats\((\[.*\])\);', html)[1])
                if row[1:] in ([1, 2, 3, 4, 5, 6, 7, 8], [5, 1, 2, 3, 4, 6, 7, 8])]

    fixed = client.get(f'/pipelines/utils/system-stats/{run_id}').get_data(as_text=True)
    assert rows(fixed) == [[5, 1, 2, 3, 4, 6, 7, 8]] * 15  # CPU first, as system-stats-chart.js reads them

    from app import mara_fixes
    with client.application.test_request_context():
        client.application.preprocess_request()  # logs the request in, as for every request
        original = mara_fixes._original_system_stats(path='utils', run_id=run_id)
    assert rows(original) == [[1, 2, 3, 4, 5, 6, 7, 8]] * 15  # the bug: disc read where the chart expects CPU


SAME_SITE = {'Sec-Fetch-Site': 'same-origin'}  # app/access.py refuses runs from other sites


def test_run_targets_are_checked_before_mara_runs_them(client):
    """Bug 9; the answers themselves are in tests/test_access.py."""
    response = client.get('/pipelines/utils/do-run/nope', headers=SAME_SITE)
    assert response.status_code == 404


def test_run_target_bug_is_still_in_the_pinned_version(client):
    import mara_pipelines.ui.run_page
    with client.application.test_request_context('/pipelines/utils/do-run/nope', headers=SAME_SITE):
        client.application.preprocess_request()
        with pytest.raises(KeyError, match='nope'):
            mara_pipelines.ui.run_page.do_run(path='utils', with_upstreams=False, ids='nope')
    with client.application.test_request_context('/pipelines/utils/initialize_utils/run-', headers=SAME_SITE):
        client.application.preprocess_request()
        with pytest.raises(AssertionError):
            mara_pipelines.ui.run_page.run_page(path='utils/initialize_utils', with_upstreams=False, ids=None)


XSS = '<img src=x onerror=alert(1)>'


def test_error_pages_escape_what_the_url_put_into_them(client):
    response = client.get(f'/pipelines/utils/run-/{XSS}', headers=SAME_SITE)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert XSS not in page and '&lt;img src=x onerror=alert(1)&gt;' in page


def test_error_page_bug_is_still_in_the_pinned_version():
    import flask
    import mara_app.views
    from mara_page import xml

    from app import mara_fixes
    other = flask.Flask('other')
    other.register_blueprint(mara_app.views.blueprint)
    mara_fixes._original_register_error_handlers(other)
    other.add_url_rule('/fail', 'fail', lambda: flask.abort(404, XSS))
    pages = []
    other.after_request(lambda response: pages.append(''.join(xml.render(response.response))) or response)
    other.test_client().get('/fail')
    assert XSS in pages[0]
