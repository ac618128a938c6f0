"""Supervises every pipeline run: the web UI, the CLI, cron and the terminal runner all go through `run_pipeline`,
which replaces mara's `execution.run_pipeline` and yields the same events.

A run
1. takes the run lock, or is refused with the run in progress named (`lock`);
2. closes the runs that died before (`recovery`), and for "rerun failed" picks what to run (`outcomes`);
3. runs mara's executor with the failure semantics of `failure_semantics`, its processes guarded (`processes`);
   mara's run logger is a `Recorder`, which also records the run in `app_run`, writes its live log
   (`event_log`) and follows how each node ends;
4. is watched by a thread that samples system statistics, notices a cancel request or a lost run lock and then
   stops the run's processes cleanly; Ctrl-C, SIGTERM and SIGHUP cancel it as well. A sample is also taken when
   the run's pipeline starts and when it finishes, so that a run of a fraction of a second has some;
5. ends with a summary of its succeeded, failed, skipped and not-run nodes, and leaves no process behind.
"""

import contextlib
import contextvars
import dataclasses
import datetime
import getpass
import os
import signal
import socket
import sys
import threading
import time
import typing
import uuid

import mara_db.config
import mara_db.dbs
import psutil
import psycopg2
from mara_pipelines import execution
from mara_pipelines.logging import logger, pipeline_events, run_log, system_statistics

from app import config
from app.runs import event_log, failure_semantics, outcomes, processes, records, recovery
from app.runs import lock as run_lock

# How long the commands of a cancelled run get to end after Ctrl-C (psql cancels its query) before they are killed.
STOP_GRACE_SECONDS = 5
_WATCH_SECONDS = 0.05  # how often the watcher looks at a run's processes and the time
_CHECK_SECONDS = 1  # how often it asks the database for cancel requests (which also checks the run lock)
# The first measurements of system statistics come faster, so that a run of a second has a few as well.
_FIRST_MEASUREMENTS, _FIRST_MEASUREMENTS_SECONDS = 10, 0.1
_MEGABYTE = 1024 * 1024


@dataclasses.dataclass
class RunRequest:
    """Who starts a run, and how, beyond mara's arguments of `run_pipeline`."""
    started_by: str
    rerun_failed: bool = False
    tell: typing.Callable[[dict], None] | None = None  # told once how the start went (a web request waits for it)
    inherited_fds: tuple = ()  # file descriptors of this process that the run's processes must not keep

    def told(self, **message) -> None:
        if self.tell:
            tell, self.tell = self.tell, None
            tell(message)


_request: contextvars.ContextVar[RunRequest | None] = contextvars.ContextVar('run_request', default=None)
_recorder: contextvars.ContextVar['Recorder | None'] = contextvars.ContextVar('run_recorder', default=None)


@contextlib.contextmanager
def requested(**fields):
    """The runs started in this block are started with these `RunRequest` fields."""
    token = _request.set(RunRequest(**fields))
    try:
        yield
    finally:
        _request.reset(token)


def user_at_host() -> str:
    return f'{getpass.getuser()}@{socket.gethostname()}'


class RunSummary(pipeline_events.PipelineEvent):
    def __init__(self, node_path: list[str], outcome: str, reason: str | None, node_outcomes: dict) -> None:
        """How a run ended: its outcome (succeeded, failed, cancelled), why, and the outcome of each node."""
        super().__init__(node_path)
        self.outcome = outcome
        self.reason = reason
        self.node_outcomes = node_outcomes


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _output(path: list[str], message: str, is_error: bool = False) -> pipeline_events.Output:
    return pipeline_events.Output(node_path=path, message=message, format=logger.Format.STANDARD, is_error=is_error)


_mara_run_pipeline = None  # mara's run_pipeline with the project's failure semantics (see install)
_mara_own_run_pipeline = None  # mara's run_pipeline as it was before run control (with app/mara_fixes.py's fixes)


def run_pipeline(pipeline, nodes=None, with_upstreams: bool = False, interactively_started: bool = False):
    """mara's `execution.run_pipeline`, under run control (same arguments, same events). Without a mara database
    (a process that uses mara-pipelines alone, as mara's own tests) there is no run lock nor run log to control
    runs with: the run is mara's own."""
    if 'mara' not in mara_db.config.databases():
        yield from _mara_own_run_pipeline(pipeline, nodes, with_upstreams, interactively_started)
        return
    request = _request.get() or RunRequest(started_by=user_at_host())
    lock, live = run_lock.take()
    if lock is None:
        message = run_lock.refusal(live)
        request.told(refused=message, run_id=live and live['run_id'])
        yield _output(pipeline.path(), message, is_error=True)
        yield pipeline_events.RunFinished(node_path=pipeline.path(), end_time=_now(), succeeded=False,
                                          interactively_started=interactively_started)
        return
    try:
        notes = recovery.close_dead_runs()
        rerun_of = None
        if request.rerun_failed:
            last = records.last_runs(1)
            try:
                pipeline = outcomes.rerun_pipeline(pipeline, last[0] if last else None)
            except outcomes.NothingToRerun as nothing:
                message = f'Nothing to rerun: {nothing}.'
                request.told(nothing=message)
                yield from [_output(pipeline.path(), note) for note in notes + [message]]
                yield pipeline_events.RunFinished(node_path=pipeline.path(), end_time=_now(), succeeded=True,
                                                  interactively_started=interactively_started)
                return
            nodes, with_upstreams, rerun_of = None, False, last[0]['run_id']
        supervision = Supervision(pipeline, nodes, with_upstreams, interactively_started, request, lock, rerun_of)
        yield from supervision.events(notes)
    finally:
        lock.close()
        request.told(error='the run ended before it started')


class Supervision:
    """One supervised run."""

    def __init__(self, pipeline, nodes, with_upstreams: bool, interactively_started: bool, request: RunRequest,
                 lock: run_lock.RunLock, rerun_of: int | None):
        self.pipeline, self.nodes, self.with_upstreams = pipeline, nodes, with_upstreams
        self.interactively_started = interactively_started
        self.request, self.lock, self.rerun_of = request, lock, rerun_of
        self.tracker = outcomes.Tracker(outcomes.scope(pipeline, nodes, with_upstreams))
        self.application_name = f'mara run {uuid.uuid4().hex[:12]}'  # of every database session of the run
        self.recorder = Recorder(self)
        self.sampler = StatisticsSampler()  # the watcher's, and the recorder's at the start and end
        self.processes: processes.RunProcesses | None = None
        self.stop_reason: str | None = None
        self.cancelled = False

    def request_stop(self, reason: str, cancelled: bool = False) -> None:
        """Asks the watcher to stop the run (the first reason counts)."""
        if self.stop_reason is None:
            self.stop_reason, self.cancelled = reason, cancelled

    def events(self, notes: list[str]):
        finished = None
        with contextlib.ExitStack() as stack:
            self.processes = stack.enter_context(processes.RunProcesses(
                close_in_children=(self.lock.fileno(), *self.request.inherited_fds)))
            stack.enter_context(_stop_on_signals(self))
            stack.enter_context(_environment_variable('PGAPPNAME', self.application_name))
            stack.callback(_recorder.reset, _recorder.set(self.recorder))
            watcher = Watcher(self)
            watcher.start()
            stack.callback(watcher.finish)
            mara_events = _mara_run_pipeline(self.pipeline, self.nodes, self.with_upstreams,
                                             interactively_started=self.interactively_started)
            try:
                for event in mara_events:
                    if isinstance(event, pipeline_events.RunFinished):
                        finished = event  # told after the summary
                        continue
                    yield event
                    if isinstance(event, pipeline_events.RunStarted):
                        for extra in [self._header(), *notes]:
                            yield self.recorder.extra(_output(self.pipeline.path(), extra))
            except GeneratorExit:  # whoever read the events stopped: the run does not go on unobserved
                self.request_stop('the caller stopped reading its events', cancelled=True)
                self._end_processes(mara_events, watcher)
                self._conclude(None)
                raise
            self._end_processes(mara_events, watcher)
        yield from self._conclude(finished)

    def _header(self) -> str:
        nodes = f" [{', '.join(node.id for node in self.nodes)}]" if self.nodes else ''
        rerun = f', rerunning what did not succeed in run {self.rerun_of}' if self.rerun_of else ''
        return (f'Run {self.recorder.run_id} of {records.pipeline_text(self.pipeline.path())}{nodes}{rerun}, '
                f'started by {self.request.started_by} at {_now():%Y-%m-%d %H:%M:%S %Z}: '
                f'follow it at {records.run_url(self.recorder.run_id)}')

    def _end_processes(self, mara_events, watcher: 'Watcher') -> None:
        watcher.finish()
        if self.stop_reason:
            self.processes.stop(STOP_GRACE_SECONDS)
        self.processes.kill()  # nothing of the run outlives it
        mara_events.close()  # mara closes the run as failed if it did not finish

    def _conclude(self, finished) -> list:
        """The summary and the RunFinished of the run, recorded in the live log and in app_run."""
        node_outcomes = self.tracker.node_outcomes()
        all_ran = all(outcome in (outcomes.SUCCEEDED, outcomes.FAILED) for outcome in node_outcomes.values())
        if self.cancelled:
            outcome = records.CANCELLED
        elif finished is not None and finished.succeeded and all_ran:
            outcome = records.SUCCEEDED
        else:
            outcome = records.FAILED
        reason = self.stop_reason or (
            'not all of its nodes ran' if finished is not None and finished.succeeded and not all_ran else None)
        path = self.pipeline.path()
        lines = outcomes.summary(outcome, reason, node_outcomes, self.tracker.failed())
        events = [_output(path, line, is_error=outcome != records.SUCCEEDED) for line in lines]
        events.append(RunSummary(path, outcome, reason, node_outcomes))
        self.recorder.finish(outcome, reason, node_outcomes)
        if self.recorder.database_lost:
            events.append(_output(path, 'The mara database could not be reached: the next run records this run '
                                        'as failed.', is_error=True))
        end = finished or pipeline_events.RunFinished(node_path=path, end_time=_now(), succeeded=False,
                                                      interactively_started=self.interactively_started)
        end.succeeded = outcome == records.SUCCEEDED
        events.append(end)
        for event in events:
            self.recorder.write(event)
        self.recorder.close()
        return events


_INSERT_STATISTICS = """
INSERT INTO data_integration_system_statistics
  (timestamp, run_id, disc_read, disc_write, net_recv, net_sent, cpu_usage, mem_usage, swap_usage, iowait)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""


class Recorder(run_log.RunLogger):
    """mara's run logger for a supervised run: mara's run log, and besides it the run's row in app_run, its live
    log, and the outcome of each node. When the mara database cannot be reached, it asks for the run to stop
    instead of raising (the next run records the run)."""

    def __init__(self, supervision: Supervision):
        super().__init__()
        self.supervision = supervision
        self.database_lost: Exception | None = None
        self._log: event_log.Writer | None = None
        self._early: list = []  # events before the run has an id, hence a log

    def handle_event(self, event) -> None:
        self.supervision.tracker.add(event)
        if isinstance(event, system_statistics.SystemStatistics):
            self._store_statistics(event)
        elif self.database_lost is None:
            try:
                super().handle_event(event)
                if isinstance(event, pipeline_events.RunStarted):
                    self._started()
            except records.DATABASE_LOST as error:
                self._lost(error)
        if not isinstance(event, pipeline_events.RunFinished):  # written after the summary
            self.write(event)
        self._sample_at_start_and_end(event)

    def _sample_at_start_and_end(self, event) -> None:
        """A measurement at the start and at the end of the run's pipeline, stamped with their times: mara's
        charts show the measurements between the two, and a run shorter than the sampling period has these."""
        if not isinstance(event, pipeline_events.NodeStarted | pipeline_events.NodeFinished) \
                or not event.is_pipeline or event.node_path != self.supervision.pipeline.path():
            return
        at = event.end_time if isinstance(event, pipeline_events.NodeFinished) else event.start_time
        self._store_statistics(self.supervision.sampler.sample(at))

    def extra(self, event):
        """An event of the supervisor itself, recorded as mara's are."""
        self.handle_event(event)
        return event

    def write(self, event) -> None:
        if self._log:
            self._log.write(event)
        elif self.run_id is None:
            self._early.append(event)

    def _store_statistics(self, event: system_statistics.SystemStatistics) -> None:
        """mara's table of system statistics; a measurement that cannot be stored is left out."""
        if self.run_id is None or self.database_lost:
            return
        with contextlib.suppress(psycopg2.Error), mara_db.dbs.cursor_context('mara') as cursor:
            cursor.execute(_INSERT_STATISTICS, (
                event.timestamp, self.run_id, event.disc_read, event.disc_write, event.net_recv, event.net_sent,
                event.cpu_usage, event.mem_usage, event.swap_usage, event.iowait))

    def _lost(self, error: Exception) -> None:
        self.database_lost = error
        self.supervision.request_stop(f'lost the connection to the mara database: {records.first_line(error)}')

    def _started(self) -> None:
        supervision = self.supervision
        log_file = event_log.path(self.run_id)
        with mara_db.dbs.cursor_context('mara') as cursor:
            records.insert(cursor, self.run_id, started_by=supervision.request.started_by, **records.this_process(),
                           application_name=supervision.application_name,
                           lock_backend_pid=supervision.lock.backend_pid,
                           node_ids=[node.id for node in supervision.nodes] if supervision.nodes else None,
                           with_upstreams=supervision.with_upstreams, rerun_of=supervision.rerun_of,
                           scope=supervision.tracker.scope, log_file=str(log_file))
        supervision.lock.announce(self.run_id)
        try:
            self._log = event_log.Writer(log_file)
        except OSError as error:  # the run goes on; the web UI cannot follow it
            print(f'Not writing the live log of the run ({error}): set RUN_LOG_DIR to a writable folder.',
                  file=sys.stderr)
            self._log = None
        for event in self._early if self._log else []:
            self._log.write(event)
        self._early = []
        supervision.request.told(run_id=self.run_id)

    def finish(self, outcome: str, reason: str | None, node_outcomes: dict) -> None:
        if self.run_id is None or self.database_lost:
            return
        try:
            with mara_db.dbs.cursor_context('mara') as cursor:
                records.finish(cursor, self.run_id, outcome, reason, node_outcomes)
                # mara closed the run already; it counts what ran, not what did not
                cursor.execute('UPDATE data_integration_run SET succeeded = %s WHERE run_id = %s AND succeeded <> %s',
                               (outcome == records.SUCCEEDED, self.run_id, outcome == records.SUCCEEDED))
        except records.DATABASE_LOST as error:
            self._lost(error)

    def close(self) -> None:
        if self._log:
            self._log.close()


class Watcher(threading.Thread):
    """Watches a run from a thread of the supervising process: collects its processes, samples system statistics,
    looks for cancel requests and checks the run lock; stops the run when asked to."""

    def __init__(self, supervision: Supervision):
        super().__init__(name='run watcher', daemon=True)
        self.supervision = supervision
        self._finished = threading.Event()

    def finish(self) -> None:
        self._finished.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()

    def run(self) -> None:
        supervision = self.supervision
        sampler = supervision.sampler
        next_sample = next_check = 0
        measurements = 0
        stopping = False
        while not self._finished.wait(_WATCH_SECONDS):
            supervision.processes.collect()
            now = time.monotonic()
            if supervision.recorder.run_id and now >= next_sample:
                measurements += 1
                next_sample = now + (_FIRST_MEASUREMENTS_SECONDS if measurements < _FIRST_MEASUREMENTS
                                     else config.system_statistics_seconds())
                supervision.recorder.handle_event(sampler.sample())
            if now >= next_check:
                next_check = now + _CHECK_SECONDS
                self._check()
            if supervision.stop_reason and not stopping:
                stopping = True
                supervision.processes.stop(STOP_GRACE_SECONDS)
            elif stopping:
                supervision.processes.kill()

    def _check(self) -> None:
        supervision = self.supervision
        try:
            with supervision.lock.connection.cursor() as cursor:
                cursor.execute('SELECT 1')
                by = records.cancel_requested_by(cursor, supervision.recorder.run_id) \
                    if supervision.recorder.run_id else None
        except psycopg2.Error as error:
            supervision.request_stop('lost the run lock (the connection to the mara database): '
                                     f'{records.first_line(error)}')
            return
        if by:
            supervision.request_stop(f'cancelled by {by}', cancelled=True)


class StatisticsSampler:
    """System statistics as mara records them, from psutil, since the previous sample."""

    def __init__(self):
        psutil.cpu_times_percent()  # the first measurement of CPU use is the one since this call
        self._last = time.monotonic(), psutil.disk_io_counters(), psutil.net_io_counters()
        self._lock = threading.Lock()  # the watcher samples, and so does the recorder at the start and end

    def sample(self, timestamp: datetime.datetime | None = None) -> system_statistics.SystemStatistics:
        """The measurement since the previous one, stamped `timestamp` (default: now)."""
        with self._lock:
            now, discs, nets = time.monotonic(), psutil.disk_io_counters(), psutil.net_io_counters()
            last_time, last_discs, last_nets = self._last
            self._last = now, discs, nets
            cpu, memory, swap = psutil.cpu_times_percent(), psutil.virtual_memory(), psutil.swap_memory()
        seconds = max(now - last_time, 1e-3)

        def rate(current, previous, field: str) -> float | None:
            return (getattr(current, field) - getattr(previous, field)) / _MEGABYTE / seconds \
                if current and previous else None

        return system_statistics.SystemStatistics(
            timestamp or _now(),
            disc_read=rate(discs, last_discs, 'read_bytes'), disc_write=rate(discs, last_discs, 'write_bytes'),
            net_recv=rate(nets, last_nets, 'bytes_recv'), net_sent=rate(nets, last_nets, 'bytes_sent'),
            cpu_usage=cpu.user + cpu.system, mem_usage=100.0 * memory.used / memory.total,
            swap_usage=100.0 * swap.used / swap.total if swap.total else None, iowait=getattr(cpu, 'iowait', None))


@contextlib.contextmanager
def _stop_on_signals(supervision: Supervision):
    """Ctrl-C, SIGTERM and a closed terminal cancel the run cleanly (only the main thread receives signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reasons = {signal.SIGINT: 'interrupted by Ctrl-C', signal.SIGTERM: 'terminated by SIGTERM',
               signal.SIGHUP: 'its terminal was closed (SIGHUP)'}
    previous = {}
    for signal_number, reason in reasons.items():
        if signal.getsignal(signal_number) is signal.SIG_IGN:  # e.g. nohup
            continue
        previous[signal_number] = signal.signal(
            signal_number, lambda number, frame, reason=reason: supervision.request_stop(reason, cancelled=True))
    try:
        yield
    finally:
        for signal_number, handler in previous.items():
            signal.signal(signal_number, handler)


@contextlib.contextmanager
def _environment_variable(name: str, value: str):
    """Sets an environment variable for this block (the processes of a run inherit it)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _initialize_run_logger():
    """mara's run logger of a run: the supervisor's Recorder (else mara's own logger)."""
    return _recorder.get() or _original_initialize_run_logger()


def _close_open_run_after_error(run_id: int) -> None:
    """mara's closing of a run after an error, without printing, and quiet when the database is gone (the next
    run closes the run then)."""
    if run_id is None:
        return
    with contextlib.suppress(*records.DATABASE_LOST), mara_db.dbs.cursor_context('mara') as cursor:
        records.close_run_rows(cursor, run_id)


_original_initialize_run_logger = execution.initialize_run_logger


def install() -> None:
    global _mara_run_pipeline, _mara_own_run_pipeline
    _mara_own_run_pipeline = execution.run_pipeline
    _mara_run_pipeline = failure_semantics.run_pipeline_with_failure_semantics()
    execution.run_pipeline = run_pipeline
    execution.initialize_run_logger = _initialize_run_logger
    run_log.close_open_run_after_error = _close_open_run_after_error
