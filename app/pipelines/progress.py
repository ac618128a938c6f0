"""How far a step over many days is: the tasks of a parallel step (loading files, building days) each report what
they finished, and the step's progress is printed as a line of their output, which the CLI prints and the run's
page shows in its header:

    Progress: 120 of 485 days (25 %), 26,400,000 rows in 1 min 4 s (412,500 rows/s), about 3 min 12 s left

mara runs the tasks of a parallel step in processes forked from the run's process, which plans them: the counts
live in shared memory created when the step is planned, so that every task adds to the same counts.
"""

import multiprocessing
import time
from collections.abc import Callable

from mara_pipelines import pipelines
from mara_pipelines.logging import logger

# How a progress line starts (app/ui/static/runs.js shows the latest such line in the run's header).
PREFIX = 'Progress: '


def format_duration(seconds: float) -> str:
    """'2 h 5 min', '3 min 12 s', '4 s'."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f'{hours} h {minutes} min'
    return f'{minutes} min {seconds} s' if minutes else f'{seconds} s'


def progress_line(days: int, planned_days: int, rows: int | None, seconds: float, share_done: float) -> str:
    """The progress of a step: `days` of `planned_days` done, `rows` (None: not counted) in `seconds`; the time
    left assumes the rest goes as fast as `share_done` (of the step's work: its bytes or rows, or its days) went."""
    parts = [f'{days:,} of {planned_days:,} days ({100 * days // planned_days} %)',
             (f'{rows:,} rows in ' if rows is not None else '') + format_duration(seconds)
             + (f' ({round(rows / seconds):,} rows/s)' if rows is not None and round(seconds) >= 1 else '')]
    if days >= planned_days:
        parts.append('done')
    elif 0 < share_done:
        parts.append(f'about {format_duration(seconds * (1 - share_done) / share_done)} left')
    return PREFIX + ', '.join(parts)


class Progress:
    """The counts of one step, shared by its tasks: days, rows and work done (work: the bytes of the files to
    load, or the rows or days to build). Create it where the step's tasks are planned (ParallelTask's
    add_parallel_tasks), before mara forks them."""

    def __init__(self, planned_days: int, planned_work: int) -> None:
        self.planned_days = planned_days
        self.planned_work = max(planned_work, 1)
        self.started = time.monotonic()
        self._done = multiprocessing.get_context('fork').Array('q', 3)  # days, rows, work

    def add(self, days: int, rows: int | None, work: int) -> str:
        """Adds what a task finished (rows None: the step does not count them); returns the step's progress line."""
        with self._done.get_lock():
            self._done[0] += days
            self._done[1] += rows or 0
            self._done[2] += work
            done_days, done_rows, done_work = self._done[:]
        return progress_line(done_days, self.planned_days, None if rows is None else done_rows,
                             time.monotonic() - self.started, done_work / self.planned_work)


class ReportProgress(pipelines.Command):
    """The last command of a task of a step (or after each file that a task loads): adds its days, and its rows as
    `count_rows` gives them, to the step's Progress, and prints the step's progress line."""

    def __init__(self, progress: Progress, days: int, work: int, count_rows: Callable[[], int | None]) -> None:
        super().__init__()
        self.progress, self.days, self.work, self.count_rows = progress, days, work, count_rows

    def run(self) -> bool:
        logger.log(self.progress.add(self.days, self.count_rows(), self.work))
        return True

    def html_doc_items(self) -> list[tuple[str, str]]:
        return [('days', str(self.days))]
