"""The executor of app/runs/failure_semantics.py on its own: what it tells when its own queries lose the mara
database (tests/runs/test_runs.py covers the failure semantics, and a PostgreSQL restart, with whole runs)."""

from mara_pipelines import pipelines
from mara_pipelines.commands.bash import RunBash
from mara_pipelines.logging import pipeline_events


class Collector:
    """Takes the place of the supervisor's run logger (the `_recorder` of a supervised run): keeps the events."""
    run_id = None

    def __init__(self):
        self.events = []

    def handle_event(self, event) -> None:
        self.events.append(event)


def test_the_executor_tells_a_lost_mara_database_in_one_line(app, monkeypatch):
    """The executor asks the mara database for the expected durations of a pipeline's children when it starts the
    pipeline. When that connection fails (here: a database that is not there; in CI once: a server shutting down),
    the run output says so in one line, not with mara's traceback."""
    import mara_db.dbs

    from app import config
    from app.runs import supervisor
    monkeypatch.setenv('MARA_DB', 'test_no_such_database')
    mara_db.dbs.db.cache_clear()  # mara_db keeps the configuration of an alias once asked for it
    pipeline = pipelines.Pipeline(id='lost', description='A pipeline whose executor cannot reach the mara database.')
    pipeline.add(pipelines.Task(id='task', description='Does nothing.', commands=[RunBash('true')]))
    collector = Collector()
    token = supervisor._recorder.set(collector)
    try:
        events = list(supervisor._mara_run_pipeline(pipeline))
    finally:
        supervisor._recorder.reset(token)
        monkeypatch.undo()
        mara_db.dbs.db.cache_clear()

    assert collector.events == events
    host = config.postgres_host() or '127.0.0.1'
    assert [(event.node_path, event.message, event.is_error) for event in events
            if isinstance(event, pipeline_events.Output)] == [
        ([], f'lost the connection to the mara database: connection to server at "{host}", port '
             f'{config.postgres_port()} failed: FATAL:  database "test_no_such_database" does not exist', True)]
