"""The progress of steps over many days (app/pipelines/progress.py): its line, and what a full build prints in the
CLI, counted from the files: every loaded file and every task of days adds its days and rows exactly once."""

import datetime
import re

import pytest

from app import data_sets
from app.pipelines import loading, progress
from app.sample_data import generate
from tests.support.warehouse import assert_succeeded, output, read_day_files, run_etl

FIRST_DAY = datetime.date(2018, 4, 1)
DAYS = 10
ENV = {'FIRST_DATE': '2018-04-01', 'LAST_DATE': '2018-04-10', 'MAX_PARALLEL_TASKS': '2'}
ROWS = 300


@pytest.mark.parametrize('seconds, text', [(0.4, '0 s'), (4, '4 s'), (192.4, '3 min 12 s'), (7500, '2 h 5 min')])
def test_durations(seconds, text):
    assert progress.format_duration(seconds) == text


def test_the_line_says_days_rows_speed_and_time_left():
    assert progress.progress_line(120, 485, 26_400_000, 64, 0.25) == (
        'Progress: 120 of 485 days (24 %), 26,400,000 rows in 1 min 4 s (412,500 rows/s), about 3 min 12 s left')
    assert progress.progress_line(3, 3, 900, 0.5, 1.0) == 'Progress: 3 of 3 days (100 %), 900 rows in 0 s, done'
    assert progress.progress_line(1, 4, None, 2, 0.25) == 'Progress: 1 of 4 days (25 %), 2 s, about 6 s left'


def test_shared_counts_add_up_across_forked_tasks():
    import multiprocessing
    step = progress.Progress(planned_days=40, planned_work=40)
    context = multiprocessing.get_context('fork')
    workers = [context.Process(target=lambda: [step.add(1, 10, 1) for _ in range(10)]) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert re.fullmatch(r'Progress: 41 of 40 days \(102 %\), 400 rows in \d+ s, done', step.add(1, 0, 0))


def _progress(text: str, step: str) -> list[tuple[int, int, int | None, str]]:
    """(days done, days planned, rows or None, the rest) of each progress line that the tasks of `step` printed."""
    lines = re.findall(rf'^{re.escape(step)} / \w+: Progress: (\d+) of (\d+) days \(\d+ %\), (?:([\d,]+) rows in )?'
                       r'(.*)$', text, re.MULTILINE)
    return [(int(done), int(planned), None if rows == '' else int(rows.replace(',', '')), rest)
            for done, planned, rows, rest in lines]


def test_a_full_build_prints_the_progress_of_loading_and_building_its_days(fresh_databases, tmp_path):
    generate(tmp_path, FIRST_DAY, DAYS, ROWS, ROWS, seed=11)
    result = run_etl(tmp_path, **ENV)
    assert_succeeded(result)
    text = output(result)
    last_day = FIRST_DAY + datetime.timedelta(days=DAYS - 1)
    steps = ((data_sets.PYPI, 'pypi / read_download_counts', 'pypi / transform_download_counts'),
             (data_sets.GITHUB, 'github / read_repo_activity', 'github / transform_repo_activity'))
    for data_set, read, build in steps:
        rows = len(read_day_files(tmp_path, data_set, FIRST_DAY, last_day))
        loaded = _progress(text, read)
        # one line per file, each counting one more day; the last has every row of the files
        assert sorted(done for done, _planned, _rows, _rest in loaded) == list(range(1, DAYS + 1)), text[-3000:]
        assert {planned for _done, planned, _rows, _rest in loaded} == {DAYS}
        last = max(loaded)
        assert (last[2], last[3].endswith(', done')) == (rows, True), last
        assert all(rest.endswith(' left') for done, _planned, _rows, rest in loaded if done < DAYS), loaded
        # tasks of at most 7 consecutive days: 7 and then 3 of the 10, in either order
        built = _progress(text, build)
        assert sorted((done, planned) for done, planned, _rows, _rest in built) in (
            [(3, DAYS), (DAYS, DAYS)], [(loading.DAYS_PER_BUILD_TASK, DAYS), (DAYS, DAYS)]), built
        assert max(built)[2] == rows and max(built)[3].endswith(', done'), built
    # python_projects counts days only
    built = _progress(text, 'python_projects / transform_python_project_activity')
    assert [(done, rows) for done, _planned, rows, _rest in sorted(built)][-1] == (DAYS, None), built
