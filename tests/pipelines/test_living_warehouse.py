"""A warehouse that lives: 30 consecutive days arrive one by one, and now and then an earlier file is corrected
(with an older modification time), removed, or arrives bad and is fixed the next day. After every run, the
warehouse equals a from-scratch build of the same files, and the numbers equal sums computed from the files.
"""

import datetime
import os
import random

import pytest

from app import data_sets
from app.sample_data import generate, generator
from tests.support import cluster
from tests.support.db import databases_of_their_own, empty_warehouse, query, reset_databases
from tests.support.warehouse import (
    assert_succeeded,
    day_id,
    differences,
    expected_numbers,
    finish,
    output,
    run_etl,
    start_etl,
    state,
    warehouse_numbers,
    write_day,
)

# Correctness of the warehouse: `make test` runs these on heap, on one Citus node and on Citus workers.
pytestmark = pytest.mark.warehouse

FIRST_DAY = datetime.date(2018, 4, 1)
# 30 days on the default server; 21 on the Citus clusters, whose runs cost more (every day partition has its shards),
# and which still see corrected, removed and bad files, and the v2 file.
DAYS = 21 if cluster.is_citus() else 30
CORRECTED = len([number for number in range(DAYS) if number % 6 == 3])
REMOVED = len([number for number in range(DAYS) if number % 6 == 5])
ROWS = 150  # per file: small, the runs' fixed costs dominate anyway
# What a bad PyPI file must leave as it was: pypi's schemas and python_projects', which depends on them (github's
# do not: that pipeline still publishes, and the gates' results record the failed check).
PYPI_AND_DOWNSTREAM = ('pypi_data', 'pypi_dim', 'pp_data', 'pp_dim', 'time')


def _older_mtime(path, than):
    """Sets the modification time of `path` before that of `than`, as `cp -p`, `rsync -a` or `tar` can."""
    older = than.stat().st_mtime_ns - 86_400 * 10**9
    os.utime(path, ns=(older, older))


@pytest.fixture(scope='module')
def scratch(databases):
    """Databases of their own for the builds from scratch."""
    with databases_of_their_own(f'test_life_scratch_{os.getpid()}') as env:
        yield env


@pytest.fixture(scope='module')
def life(scratch, tmp_path_factory):
    """Runs the life; returns the log of what each day did and what was checked."""
    reset_databases()
    data_dir = tmp_path_factory.mktemp('life')
    env = {'FIRST_DATE': f'{FIRST_DAY}', 'LAST_DATE': f'{FIRST_DAY + datetime.timedelta(days=DAYS - 1)}'}
    rng = random.Random(8)
    log = []
    for number in range(DAYS):
        day = FIRST_DAY + datetime.timedelta(days=number)
        generate(data_dir, day, 1, ROWS, ROWS, seed=number)
        event = 'new day'
        earlier = FIRST_DAY + datetime.timedelta(days=rng.randrange(max(number, 1)))
        if number % 6 == 5:  # a removed file (of a day that nothing else touches)
            earlier = FIRST_DAY + datetime.timedelta(days=number - 1)
            data_sets.GITHUB.path(data_dir, earlier, data_sets.GITHUB.versions[0]).unlink()
            event = f'removed the GitHub file of {earlier}'
        elif number % 6 == 3:  # a corrected file, written back with an older modification time
            path = data_sets.PYPI.path(data_dir, earlier, data_sets.PYPI.versions[0])
            before = path.read_bytes()
            generator.write_file(path, 'pypi', earlier, ROWS + 7, seed=1000 + number)
            assert path.read_bytes() != before
            _older_mtime(path, than=data_sets.PYPI.path(data_dir, FIRST_DAY, data_sets.PYPI.versions[0]))
            event = f'corrected {earlier}'
        elif number == 10:  # a newer file version next to the old one
            earlier = FIRST_DAY + datetime.timedelta(days=2)
            write_day(data_dir, data_sets.GITHUB, earlier, [('pallets', 'flask', 1, None, 2, 5)], version=2)
            event = f'GitHub v2 file for {earlier}'

        if number in (13, 20):  # a bad file: its pipeline publishes nothing, the next day brings the fix
            bad = write_day(data_dir, data_sets.PYPI, day, [('flask', '1.0', '3.6', 'pip', -5)])
            before = state(schemas=PYPI_AND_DOWNSTREAM)
            result = run_etl(data_dir, **env)
            assert result.returncode != 0, output(result)[-3000:]
            assert f'{day:%Y/%m/%d}/pypi/downloads-v1.csv.gz' in output(result)
            assert differences(state(schemas=PYPI_AND_DOWNSTREAM), before) == {}
            # github does not depend on pypi: it published its file of the day
            assert query('SELECT count(*) FROM github_data.published_day WHERE day_id = %s', (day_id(day),)) == [(1,)]
            log.append((day, 'bad file: failed, nothing published'))
            generate(data_dir, day, 1, ROWS, ROWS, seed=number, overwrite=True)
            assert bad.exists()

        # The incremental run and a build from scratch of the same files, side by side.
        empty_warehouse(scratch['DWH_DB'])
        runs = [start_etl(data_dir, **env), start_etl(data_dir, **env, **scratch)]
        for run in runs:
            assert_succeeded(finish(run))
        assert differences(state(), state(scratch['DWH_DB'])) == {}, (day, event)
        last = FIRST_DAY + datetime.timedelta(days=DAYS - 1)
        assert warehouse_numbers() == expected_numbers(data_dir, FIRST_DAY, last), (day, event)
        log.append((day, event))
    return {'log': log, 'data_dir': data_dir}


def test_every_day_equals_a_build_from_scratch(life):
    events = [event for _day, event in life['log']]
    assert len([event for event in events if event.startswith('corrected')]) == CORRECTED == (5 if DAYS == 30 else 3)
    assert len([event for event in events if event.startswith('removed')]) == REMOVED == (5 if DAYS == 30 else 3)
    assert events.count('bad file: failed, nothing published') == 2


def test_after_the_life_the_warehouse_has_every_day_with_its_files(life):
    pypi_days = query('SELECT count(*) FROM pypi_data.published_day')[0][0]
    github_days = query('SELECT count(*) FROM github_data.published_day')[0][0]
    files = {data_set.name: len(list(life['data_dir'].glob(f'*/*/*/{data_set.name}/*.csv.gz')))
             for data_set in data_sets.DATA_SETS.values()}
    assert pypi_days == files['pypi'] == DAYS
    assert github_days == DAYS - REMOVED <= files['github']  # one day has v1 and v2
    assert query('SELECT count(*) FROM pp_dim.python_project_activity WHERE day_fk = %s',
                 (day_id(FIRST_DAY),))[0][0] > 0
