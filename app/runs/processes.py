"""The processes of a run: each in a session of its own, taken down when its parent dies, stopped cleanly.

mara forks an executor process for a run, the executor forks one process per task, and a task starts shell
commands (bash, psql). While a run is supervised, every process that is forked below the supervising process
- leads a session of its own (`setsid`): a signal to a task's process group reaches the commands it started,
  Ctrl-C in a terminal reaches only the supervisor, and no command can block on the terminal (a password prompt);
- gets SIGTERM when its parent dies (Linux `PR_SET_PDEATHSIG`) and then kills its whole process group, so that
  `kill -9` of the supervisor takes the executor, the tasks and their commands down with it;
- reports its pid to the supervisor, which so knows every process group of the run, also the commands whose
  task died, and stops or kills them (`RunProcesses.stop`, `RunProcesses.kill`).
"""

import contextlib
import ctypes
import os
import signal
import time

import psutil

# Seconds that processes get to end after a signal before they are waited for no longer.
KILL_WAIT_SECONDS = 5
_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# A process group is one of the run's when its leader reported itself; a process is one of the group's
# members when it is not older than the leader (process ids are reused).
_CLOCK_TOLERANCE_SECONDS = 1

try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # not Linux: no parent-death signal, the supervisor still stops its processes
    _prctl = None

_guard = None  # the RunProcesses of the run that this process supervises (forks inherit it)
_forking_pid = None


def _before_fork() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _kill_own_group(signal_number, frame) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _after_fork_in_child() -> None:
    guard = _guard
    if guard is None:
        return
    os.setsid()
    if _prctl:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != _forking_pid:  # the parent died before the parent-death signal was set
        os._exit(1)
    signal.signal(signal.SIGTERM, _kill_own_group)
    signal.signal(signal.SIGINT, lambda *_: None)  # a Python handler, so that exec'd commands get the default back
    if _forking_pid == guard.owner:  # deeper down, these numbers may stand for other files by now
        for fd in guard.close_in_children:
            with contextlib.suppress(OSError):
                os.close(fd)
    os.write(guard.births_fd, f'{os.getpid()} {os.getppid()}\n'.encode())


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


class RunProcesses:
    """The processes forked below this one while it is used as a context manager (one run at a time)."""

    def __init__(self, close_in_children: tuple = ()):
        self.owner = os.getpid()
        self.started_at = time.time()
        self._births_read, self.births_fd = os.pipe()
        os.set_blocking(self._births_read, False)
        self.close_in_children = (self._births_read, *close_in_children)
        self._pending = b''
        self.groups: dict[int, float] = {}  # leader pid: its start time
        self.executor: int | None = None  # the process that mara forked for the run

    def __enter__(self):
        global _guard
        if _guard is not None:
            raise RuntimeError('a run is already supervised in this process')
        _guard = self
        return self

    def __exit__(self, *exc_info):
        global _guard
        _guard = None
        self.collect()
        os.close(self._births_read)
        os.close(self.births_fd)

    def collect(self) -> None:
        """Reads which processes were forked since the last call."""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._births_read, 65536):
                self._pending += chunk
        *lines, self._pending = self._pending.split(b'\n')
        for line in lines:
            pid, parent = (int(field) for field in line.split())
            try:
                self.groups[pid] = psutil.Process(pid).create_time()
            except psutil.NoSuchProcess:
                self.groups[pid] = self.started_at
            if parent == self.owner and self.executor is None:
                self.executor = pid

    def members(self) -> list[psutil.Process]:
        """The living processes of the run's process groups (commands whose task died included)."""
        self.collect()
        found = []
        for process in psutil.process_iter():
            try:
                leader_started = self.groups.get(os.getpgid(process.pid))
                if (leader_started is not None and process.create_time() >= leader_started - _CLOCK_TOLERANCE_SECONDS
                        and process.status() != psutil.STATUS_ZOMBIE):
                    found.append(process)
            except (psutil.NoSuchProcess, ProcessLookupError):
                pass
        return found

    def stop(self, grace_seconds: float) -> None:
        """Stops the run: freezes the executor (so that it starts no more tasks), interrupts the commands of the
        tasks as Ctrl-C would (psql then cancels its query on the server), and kills what is left after
        `grace_seconds`."""
        members = self.members()
        for process in members:
            if process.pid == self.executor:
                _signal(process, signal.SIGSTOP)
        commands = [process for process in members if process.pid not in self.groups]
        for process in commands:
            _signal(process, signal.SIGINT)
        _wait_gone(commands, grace_seconds)
        self.kill()

    def kill(self) -> None:
        """Kills every process of the run that is still there."""
        members = self.members()
        for process in members:
            _signal(process, signal.SIGKILL)
        _wait_gone(members, KILL_WAIT_SECONDS)


def _signal(process: psutil.Process, signal_number: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(signal_number)


def _wait_gone(processes: list, timeout: float) -> None:
    """Waits until the processes have ended, without reaping them (mara reaps its executor itself)."""
    deadline = time.monotonic() + timeout
    while processes and time.monotonic() < deadline:
        processes = [process for process in processes if _running(process)]
        if processes:
            time.sleep(_POLL_SECONDS)


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
