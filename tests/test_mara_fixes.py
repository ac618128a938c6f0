"""Each workaround in app/mara_fixes.py: the bug is still there without it, and gone with it.

When a newer pinned mara version fixes a bug, the "still there" test fails: then drop the workaround.
"""

import pathlib
import time

import pytest
from mara_pipelines import pipelines
from mara_pipelines.commands.bash import RunBash

import app  # noqa: F401  (applies the fixes)


def test_a_task_from_a_list_tells_whether_its_commands_are_dynamic_and_accepts_more():
    task = pipelines.Task(id='t', description='A task.', commands=[RunBash('true')])
    assert task.is_dynamic_commands is False
    task.add_command(RunBash('echo 2'))
    assert [command.command for command in task.commands] == ['true', 'echo 2']


def test_task_bug_is_still_in_the_pinned_version(monkeypatch):
    monkeypatch.delattr(pipelines.Task, '_Task__dynamic_commands_generator_func')
    task = pipelines.Task(id='t', description='A task.', commands=[RunBash('true')])
    with pytest.raises(AttributeError, match='_Task__dynamic_commands_generator_func'):
        assert task.is_dynamic_commands is not None


def _events_when_the_last_ones_arrive_late(run_pipeline, monkeypatch) -> list[str]:
    """The event names of a run of one quick task, read as mara reads them when the executor's last events arrive
    just after mara found the queue empty: the queue says "empty" once, after the executor has ended."""
    from multiprocessing import queues

    from mara_pipelines.logging import pipeline_events

    pipeline = pipelines.Pipeline(id='fix_test_events', description='One quick task.')
    pipeline.add(pipelines.Task(id='quick', description='Succeeds.', commands=[RunBash('true')]))
    original_empty, late = queues.Queue.empty, {'armed': False}

    def empty(queue) -> bool:
        if late['armed'] and not original_empty(queue):
            late['armed'] = False
            return True
        return original_empty(queue)

    monkeypatch.setattr(queues.Queue, 'empty', empty)
    names = []
    for event in run_pipeline(pipeline):
        names.append(type(event).__name__)
        if isinstance(event, pipeline_events.NodeFinished) and event.node_path == ['quick']:
            time.sleep(2)  # the executor sends its last events and ends meanwhile
            late['armed'] = True
    return names


def test_a_run_reads_the_events_that_its_executor_sent_last(databases, monkeypatch):
    from app import mara_fixes
    assert _events_when_the_last_ones_arrive_late(mara_fixes.run_pipeline_reading_all_events, monkeypatch)[-1] \
        == 'RunFinished'


def test_losing_the_last_events_is_still_in_the_pinned_version(databases, monkeypatch):
    from app import mara_fixes
    names = _events_when_the_last_ones_arrive_late(mara_fixes._run_pipeline_losing_last_events, monkeypatch)
    assert names[-1] == 'NodeFinished' and 'RunFinished' not in names


def _example(value: int) -> int:
    return value + 1


def test_a_source_change_applies_to_the_version_it_was_written_for_only():
    from app import mara_fixes
    changed = mara_fixes.recompiled(_example, [('return value + 1', 'return value + 2')], why='a test')
    assert (changed(1), _example(1)) == (3, 2)
    assert mara_fixes.recompiled(changed, [('value + 2', 'value + 3')], why='a second test')(1) == 4  # again
    with pytest.raises(RuntimeError, match="is not the version that a test was written for: .*'return value - 1'"):
        mara_fixes.recompiled(_example, [('return value - 1', 'return value')], why='a test')


XSS = '<img src=x onerror=alert(1)>'


def test_error_pages_escape_what_the_url_put_into_them(client):
    response = client.get(f'/pipelines/utils/run-/{XSS}', headers={'Sec-Fetch-Site': 'same-origin'})
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


def test_popper_bug_is_still_in_the_pinned_version():
    import mara_app.layout
    layout_file = pathlib.Path(mara_app.layout.__file__)
    layout = layout_file.read_text()
    assert "filename='bootstrap/bootstrap.min.js'" in layout and 'popper' not in layout.lower()  # mara loads no Popper
    bootstrap = (layout_file.parent / 'static' / 'bootstrap' / 'bootstrap.min.js').read_text()
    assert 'Bootstrap v4.6.1' in bootstrap and "Bootstrap's tooltips require Popper" in bootstrap  # tooltips need it
    assert 'Popper.js v' not in bootstrap  # and this build is not the bundle that brings it


@pytest.mark.parametrize('url, message', [
    ('/pipelines/nonexistent', 'There is no pipeline &#34;nonexistent&#34;.'),
    ('/pipelines/pypi/transform_project', 'The pipeline &#34;pypi&#34; has no node &#34;transform_project&#34;.'),
    ('/pipelines/pypi/transform_project/dependency-graph',
     'The pipeline &#34;pypi&#34; has no node &#34;transform_project&#34;.'),
    ('/pipelines/nonexistent/run-output', 'There is no pipeline &#34;nonexistent&#34;.'),
    ('/pipelines/utils/nothing/more/timeline-chart', 'The pipeline &#34;utils&#34; has no node &#34;nothing&#34;.')])
def test_an_unknown_node_is_not_found(client, url, message):
    response = client.get(url)
    assert response.status_code == 404
    assert message in response.get_data(as_text=True)


def test_known_nodes_are_still_found(client):
    assert [client.get(url).status_code for url in ('/pipelines', '/pipelines/pypi',
                                                    '/pipelines/pypi/transform_dimensions',
                                                    '/pipelines/pypi/dependency-graph')] == [200, 200, 200, 200]
    assert client.get('/pipelines/pypi/').headers['Location'] == '/pipelines/pypi'  # mara's redirect to the node
    # a task of a parallel task, which exists only at run time (the run output links to it): its parallel task
    assert client.get('/pipelines/pypi/read_download_counts/files_1').headers['Location'] \
        == '/pipelines/pypi/read_download_counts'


def test_unknown_node_redirect_is_still_in_the_pinned_version(client):
    from mara_pipelines.ui import node_page
    with client.application.test_request_context('/pipelines/pypi/transform_project'):
        response = node_page.node_page('pypi/transform_project')
    assert (response.status_code, response.headers['Location']) == (302, '/pipelines/pypi')
