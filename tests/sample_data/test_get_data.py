"""`make data` (.scripts/get-data.sh) without BigQuery credentials: sample data only into an empty DATA_DIR."""

import datetime
import subprocess

from app import data_sets
from tests.support import PROJECT_ROOT
from tests.support.warehouse import write_day


def get_data(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run(['bash', str(PROJECT_ROOT / '.scripts' / 'get-data.sh')], cwd=PROJECT_ROOT,
                          env={'PATH': '/usr/bin:/bin', 'DATA_DIR': str(data_dir),
                               'GOOGLE_APPLICATION_CREDENTIALS': str(data_dir / 'no-credentials.json')},
                          capture_output=True, text=True, timeout=300)


def test_an_empty_data_dir_gets_the_sample(tmp_path):
    result = get_data(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'an empty DATA_DIR: generating sample data' in result.stdout
    assert len(list(tmp_path.glob('*/*/*/*/*.csv.gz'))) == 20


def test_files_that_are_there_are_used_and_nothing_is_generated(tmp_path):
    write_day(tmp_path, data_sets.PYPI, datetime.date(2019, 1, 1), [('flask', '1.0', '3.7', 'pip', 1)])
    result = get_data(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'DATA_DIR ({tmp_path}) holds 1 files: using them, no sample data generated' in result.stdout
    assert [path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob('*.csv.gz')] \
        == ['2019/01/01/pypi/downloads-v1.csv.gz']
