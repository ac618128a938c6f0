"""Run control with real processes: failure semantics, rerunning what did not succeed, one run at a time, cancel,
kill -9, a PostgreSQL restart in the middle of a run, and no process left behind.

The runs are of the test app's own small pipeline (tests/support/run_control_app.py), started as `flask` commands.
"""

import datetime
import os
import re
import signal
import subprocess

import psycopg2
import pytest

from app import config
from app.runs import lock as run_lock
from app.runs import records
from tests.support import commands, db, run_control
from tests.support.run_control import last_run_id, next_schemas, node_runs, open_runs, record, sleeping_sessions


@pytest.fixture
def control(databases, tmp_path):
    control = run_control.RunControl(tmp_path)
    yield control
    assert not run_control.processes_of_the_test_app(), 'a run of the test app is still running'


def test_a_failed_node_skips_its_downstreams_and_independent_nodes_finish(control):
    control.break_flaky()
    result = control.run()
    assert result.returncode != 0
    output = result.stdout
    run_id = last_run_id()
    assert 'flaky / blocked: skipped, because flaky / breaks did not succeed\n' in output
    assert 'report: skipped, because flaky did not succeed\n' in output
    assert re.search(r'^flaky / independent: succeeded', output, re.MULTILINE)
    assert re.search(r'^slow: succeeded', output, re.MULTILINE)  # an independent pipeline finishes
    assert not re.search(r'^flaky: succeeded', output, re.MULTILINE)
    assert output.rstrip('\n').split('\n')[-4:] == [
        ' Run failed: 5 of 8 tasks succeeded, 1 failed, 2 skipped.',
        ' failed: flaky / breaks',
        ' skipped: flaky / blocked, report',
        ' succeeded: slow, flaky / first, flaky / independent']
    # skipped nodes never started: mara's run log has no rows for them, and every pipeline around them failed
    assert node_runs(run_id) == {'': False, 'slow': True, 'slow/start': True, 'slow/wait': True, 'slow/finish': True,
                                 'flaky': False, 'flaky/first': True, 'flaky/breaks': False,
                                 'flaky/independent': True}
    assert record(run_id)['node_outcomes'] == {
        '': 'failed', 'slow': 'succeeded', 'slow/start': 'succeeded', 'slow/wait': 'succeeded',
        'slow/finish': 'succeeded', 'flaky': 'failed', 'flaky/first': 'succeeded', 'flaky/breaks': 'failed',
        'flaky/blocked': 'skipped', 'flaky/independent': 'succeeded', 'report': 'skipped',
        'report/summarize': 'skipped'}
    assert record(run_id)['outcome'] == 'failed'


def test_rerun_failed_runs_only_the_failed_nodes_and_what_they_blocked(control):
    control.break_flaky()
    assert control.run().returncode != 0
    failed_run = last_run_id()
    control.break_flaky(False)  # fixed

    result = control.run('--rerun-failed')
    assert result.returncode == 0, result.stdout
    rerun = last_run_id()
    assert node_runs(rerun) == {'': True, 'flaky': True, 'flaky/breaks': True, 'flaky/blocked': True,
                                'report': True, 'report/summarize': True}
    assert record(rerun)['rerun_of'] == failed_run and record(rerun)['outcome'] == 'succeeded'
    assert f'rerunning what did not succeed in run {failed_run}' in result.stdout

    again = control.run('--rerun-failed')
    assert again.returncode == 0
    assert f'Nothing to rerun: all nodes of run {rerun} succeeded.' in again.stdout
    assert last_run_id() == rerun


@pytest.mark.parametrize('settings, address', [
    ({}, 'http://localhost:5000'), ({'FLASK_RUN_PORT': '8123'}, 'http://localhost:8123'),
    ({'WEB_UI_URL': 'https://etl.example.com/', 'FLASK_RUN_PORT': '8123'}, 'https://etl.example.com')])
def test_a_run_prints_the_whole_address_of_its_page(control, settings, address):
    for name in ('WEB_UI_URL', 'FLASK_RUN_PORT'):
        control.env.pop(name, None)
    control.env.update(settings)
    result = control.run('--path', 'flaky')
    assert result.returncode == 0, result.stdout
    assert f': follow it at {address}/runs/{last_run_id()}\n' in result.stdout


def test_rerun_failed_takes_no_selection_of_its_own(control):
    result = control.run('--rerun-failed', '--path', 'flaky')
    assert result.returncode == 2 and '--rerun-failed reruns what the last run did not finish' in result.stderr


def test_a_second_run_is_refused_with_the_live_run_named(control):
    control.sleep(600)
    first = control.start('--path', 'slow')
    try:
        run_id = run_control.wait_until_slow_waits()
        before = last_run_id()
        second = control.run('--path', 'flaky')
        assert second.returncode != 0
        assert re.search(rf'^flaky: Not started, because run {run_id} of pipeline slow is in progress '
                         rf'\(started \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC by cli \S+\): '
                         rf'see {re.escape(config.web_ui_url())}/runs/{run_id}\. '
                         r'Try again when it has finished\.$', second.stdout, re.MULTILINE), second.stdout
        assert last_run_id() == before  # a refused run is not recorded
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)


@pytest.mark.parametrize('how', ['cancel request', 'Ctrl-C', 'SIGTERM'])
def test_a_cancelled_run_stops_its_processes_and_its_query(control, how):
    control.sleep(600)
    run = control.start('--path', 'slow')
    run_id = run_control.wait_until_slow_waits()
    processes = run_control.processes_of(run.pid)
    assert any(process.name() == 'psql' for process in processes)
    if how == 'cancel request':
        assert records.request_cancel(run_id, 'the test')
    else:
        run.send_signal(signal.SIGINT if how == 'Ctrl-C' else signal.SIGTERM)
    output = run.communicate(timeout=60)[0]
    assert run.returncode != 0
    reason = {'cancel request': 'cancelled by the test', 'Ctrl-C': 'interrupted by Ctrl-C',
              'SIGTERM': 'terminated by SIGTERM'}[how]
    assert output.rstrip('\n').split('\n')[-4:] == [
        f'slow: Run cancelled ({reason}): 1 of 3 tasks succeeded, 1 failed, 1 not run.',
        'slow: failed: slow / wait', 'slow: not run: slow / finish', 'slow: succeeded: slow / start']
    assert 'canceling statement due to user request' in output  # psql cancelled its query on the server
    assert 'Traceback' not in output
    assert not run_control.wait_gone(processes)
    assert not sleeping_sessions()
    assert (record(run_id)['outcome'], record(run_id)['reason']) == ('cancelled', reason)
    assert node_runs(run_id) == {'slow': False, 'slow/start': True, 'slow/wait': False}
    assert not open_runs()


def test_after_kill_9_the_next_run_closes_the_dead_run_and_cleans_up(control):
    control.sleep(600)
    run = control.start()
    run_id = run_control.wait_until_slow_waits()
    processes = run_control.processes_of(run.pid)
    assert len(processes) >= 4  # the supervisor, mara's executor, a task, its bash and psql
    run_control.kill_session(run)
    assert not run_control.wait_gone(processes), 'processes outlived the killed run'
    assert not run_control.processes_of_the_test_app()
    assert open_runs() == [run_id] and next_schemas() == ['rc_slow_next']

    control.sleep(0)
    after = control.run('--path', 'flaky')
    assert after.returncode == 0, after.stdout  # not refused
    assert re.search(rf'Closed run {run_id} of the root pipeline as failed \(started by cli \S+\): its process '
                     rf'\(pid {run.pid} on \S+\) ended before the run finished\.', after.stdout), after.stdout
    assert 'Dropped their leftover schemas rc_slow_next.' in after.stdout
    assert not open_runs() and not next_schemas() and not sleeping_sessions()
    dead = record(run_id)
    assert dead['outcome'] == 'failed' and dead['recovered_at'] is not None
    assert dead['node_outcomes']['slow/start'] == 'succeeded' and dead['node_outcomes']['slow/wait'] == 'failed'


def test_after_a_crash_rerun_failed_starts_the_unfinished_pipelines_over(control):
    """The crash's half-built *_next schemas are gone, so the pipelines that did not finish run whole again."""
    control.sleep(600)
    run = control.start('--path', 'slow')
    run_control.wait_until_slow_waits()
    run_control.kill_session(run)
    control.sleep(0)
    result = control.run('--rerun-failed')
    assert result.returncode == 0, result.stdout
    assert node_runs(last_run_id()) == {'slow': True, 'slow/start': True, 'slow/wait': True, 'slow/finish': True}
    assert not next_schemas()


def test_a_lock_whose_holder_is_dead_does_not_block_a_new_run(control, mara_db_query):
    """The session of a vanished run still holds the lock (its machine went away): the next run frees it."""
    import mara_db.dbs
    gone = subprocess.Popen(['true'])
    gone.wait()
    holder = mara_db.dbs.connect('mara')
    holder.autocommit = True
    with holder.cursor() as cursor:
        cursor.execute('SELECT pg_advisory_lock(%s), pg_backend_pid()', (run_lock.RUN_LOCK_ID,))
        backend = cursor.fetchone()[1]
        cursor.execute("INSERT INTO data_integration_run (node_path, pid, start_time) VALUES ('{flaky}', %s, now()) "
                       "RETURNING run_id", (gone.pid,))
        dead_run = cursor.fetchone()[0]
        records.insert(cursor, dead_run, started_by='the test', **records.this_process() | {'pid': gone.pid},
                       application_name='mara run test', lock_backend_pid=backend, node_ids=None, with_upstreams=False,
                       rerun_of=None, scope=['flaky'], log_file=str(control.directory / 'dead.jsonl'))
    run_lock.RunLock(holder).announce(dead_run)  # as its supervisor did
    try:
        result = control.run('--path', 'flaky')
        assert result.returncode == 0, result.stdout
        assert f'Closed run {dead_run} of pipeline flaky as failed (started by the test)' in result.stdout
        assert mara_db_query('SELECT count(*) FROM pg_stat_activity WHERE pid = %s', (backend,)) == [(0,)]
    finally:
        holder.close()


def test_a_run_is_live_until_its_supervisor_lets_go_of_the_lock(control):
    """mara closes a run (end_time) before the supervisor has written its summary to the live log: a page that
    asked in between saw no live run and ended its stream with 'failed' instead of the run's real outcome."""
    lock, live = run_lock.take()
    assert live is None
    try:
        assert run_lock.live_run() == {'run_id': None, 'lock_backend_pid': lock.backend_pid}  # not recorded yet
        with lock.connection.cursor() as cursor:
            cursor.execute("INSERT INTO data_integration_run (node_path, pid, start_time, end_time, succeeded) "
                           "VALUES ('{flaky}', %s, now(), now(), false) RETURNING run_id", (os.getpid(),))
            run_id = cursor.fetchone()[0]
            records.insert(cursor, run_id, started_by='the test', **records.this_process(),
                           application_name='mara run test', lock_backend_pid=lock.backend_pid, node_ids=None,
                           with_upstreams=False, rerun_of=None, scope=['flaky'],
                           log_file=str(control.directory / 'log.jsonl'))
        lock.announce(run_id)
        assert run_lock.live_run()['run_id'] == run_id  # closed by mara, and still live
    finally:
        lock.close()
    assert run_lock.live_run() is None


@pytest.fixture
def control_on_a_cluster_of_its_own(databases, monkeypatch, tmp_path):
    """Run control whose runs, and this test's queries, go to a PostgreSQL cluster of its own (started by
    .scripts/postgres.sh on a free port, with this session's databases set up on it by .scripts/setup-db.sh),
    which the test may stop: the developer's cluster, and the session's databases on it, are never touched."""
    import mara_db.dbs
    session_server = mara_db.dbs.db('mara')
    with db.cluster_of_its_own() as cluster:
        started = commands.script('postgres.sh', 'start', env=cluster)
        assert started.returncode == 0, started.stdout + started.stderr
        with db.sessions_on(cluster, monkeypatch):
            yield run_control.RunControl(tmp_path), cluster, session_server
            assert not run_control.processes_of_the_test_app(), 'a run of the test app is still running'


def _started_at(server) -> datetime.datetime:
    """When a PostgreSQL server (mara_db's settings of a database on it) started: a restart changes it."""
    connection = psycopg2.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                                  dbname=server.database)
    try:
        with connection.cursor() as cursor:
            cursor.execute('SELECT pg_postmaster_start_time()')
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_postgresql_restarted_in_the_middle_of_a_run(control_on_a_cluster_of_its_own):
    control, cluster, session_server = control_on_a_cluster_of_its_own
    session_server_started = _started_at(session_server)
    control.sleep(600)
    run = control.start()
    run_id = run_control.wait_until_slow_waits()
    processes = run_control.processes_of(run.pid)
    stopped = commands.script('postgres.sh', 'stop', env=cluster)
    assert stopped.returncode == 0, stopped.stderr
    try:
        output = run.communicate(timeout=120)[0]  # the run stops by itself
        assert run.returncode != 0
        assert not run_control.wait_gone(processes), 'processes outlived the run'
        assert not run_control.processes_of_the_test_app()
        assert 'lost the' in output and 'mara database' in output, output[-3000:]
        assert 'The mara database could not be reached: the next run records this run as failed.' in output
        assert 'Traceback' not in output and 'Exception during' not in output, output[-3000:]
    finally:
        started = commands.script('postgres.sh', 'start', env=cluster)
        assert started.returncode == 0, started.stderr
    control.sleep(0)
    after = control.run()
    assert after.returncode == 0, after.stdout[-3000:]
    assert f'Closed run {run_id} of the root pipeline as failed' in after.stdout
    assert not open_runs() and not next_schemas()
    assert record(run_id)['reason'].startswith('lost the')
    assert _started_at(session_server) == session_server_started  # the developer's server was not restarted
