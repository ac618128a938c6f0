"""Tests of the sample-data generator (app/sample_data): layout, format, determinism, README facts,
realism."""

import collections
import datetime
import gzip
import pathlib
import re

import pytest
from click.testing import CliRunner

from app.sample_data import generate, generator, pypi, readme_days
from app.sample_data.catalog import catalog, read_ranked_projects
from app.sample_data.cli import CLICK_COMMANDS

PYPI_HEADER = 'day_id\tproject\tproject_version\tpython_version\tinstaller\tnumber_of_downloads'
GITHUB_HEADER = 'day_id\tuser\trepository\tnumber_of_forks\tnumber_of_commits\tnumber_of_closed_pull_requests'
FIRST_DAY = datetime.date(2018, 4, 9)
DAYS = 3  # 04-09 (a README day), 04-10 (the flask day), 04-11 (an ordinary day)
PYPI_ROWS, GITHUB_ROWS, SEED = 5000, 4000, 7

POSITIVE_INT = re.compile(r'^[1-9][0-9]*$')
NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
VERSION = re.compile(r'^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+|\.post[0-9]+)?$')


def read(path: pathlib.Path) -> tuple[str, list[list[str]]]:
    lines = gzip.decompress(path.read_bytes()).decode().split('\n')
    assert lines[-1] == ''  # ends with a newline
    return lines[0], [line.split('\t') for line in lines[1:-1]]


def path_of(data_dir: pathlib.Path, day: datetime.date, kind: str) -> pathlib.Path:
    name = 'pypi/downloads-v1.csv.gz' if kind == 'pypi' else 'github/repo-activity-v1.csv.gz'
    return data_dir / f'{day.year:04d}' / f'{day.month:02d}' / f'{day.day:02d}' / name


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp('sample')
    generate(directory, FIRST_DAY, DAYS, PYPI_ROWS, GITHUB_ROWS, SEED, workers=1)
    return directory


def day_rows(data_dir: pathlib.Path, day: datetime.date, kind: str) -> list[list[str]]:
    return read(path_of(data_dir, day, kind))[1]


def all_days():
    return [FIRST_DAY + datetime.timedelta(days=offset) for offset in range(DAYS)]


# ---------------------------------------------------------------- layout and format

def test_layout_is_one_file_per_day_and_source(data_dir):
    files = sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob('*') if path.is_file())
    assert files == ['2018/04/09/github/repo-activity-v1.csv.gz', '2018/04/09/pypi/downloads-v1.csv.gz',
                     '2018/04/10/github/repo-activity-v1.csv.gz', '2018/04/10/pypi/downloads-v1.csv.gz',
                     '2018/04/11/github/repo-activity-v1.csv.gz', '2018/04/11/pypi/downloads-v1.csv.gz']


@pytest.mark.parametrize('kind, header, rows',
                         [('pypi', PYPI_HEADER, PYPI_ROWS), ('github', GITHUB_HEADER, GITHUB_ROWS)])
def test_headers_and_exact_row_counts(data_dir, kind, header, rows):
    for day in all_days():
        file_header, file_rows = read(path_of(data_dir, day, kind))
        assert file_header == header
        assert len(file_rows) == rows
        assert {row[0] for row in file_rows} == {day.strftime('%Y%m%d')}
        assert {len(row) for row in file_rows} == {6}


def test_pypi_values(data_dir):
    for day in all_days():
        for _, project, version, python, installer, downloads in day_rows(data_dir, day, 'pypi'):
            assert re.match(r'^[a-z0-9][a-z0-9-]*$', project)
            assert VERSION.match(version), version
            assert python == '' or re.match(r'^[23]\.[0-9]+$', python)
            assert installer == '' or NAME.match(installer)
            assert POSITIVE_INT.match(downloads)


def test_github_values_and_at_least_one_metric(data_dir):
    for day in all_days():
        for _, user, repository, *metrics in day_rows(data_dir, day, 'github'):
            assert NAME.match(user) and len(user) <= 39, user
            assert NAME.match(repository), repository
            assert all(metric == '' or POSITIVE_INT.match(metric) for metric in metrics)
            assert any(metrics)


@pytest.mark.parametrize('kind, key_columns', [('pypi', slice(1, 5)), ('github', slice(1, 3))])
def test_no_duplicate_keys(data_dir, kind, key_columns):
    for day in all_days():
        keys = [tuple(row[key_columns]) for row in day_rows(data_dir, day, kind)]
        assert len(set(keys)) == len(keys)


def test_files_are_written_atomically_without_leftovers(data_dir):
    assert not [path for path in data_dir.rglob('*') if path.name.startswith('.')]
    assert oct(path_of(data_dir, FIRST_DAY, 'pypi').stat().st_mode & 0o777) == '0o644'


# ---------------------------------------------------------------- determinism and skipping

def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    for name, seed, workers in (('a', 1, 1), ('b', 1, 2), ('c', 2, 1)):
        generate(tmp_path / name, datetime.date(2018, 4, 10), 2, 300, 300, seed, workers=workers)
    for day in (datetime.date(2018, 4, 10), datetime.date(2018, 4, 11)):
        for kind in ('pypi', 'github'):
            a, b, c = (path_of(tmp_path / name, day, kind).read_bytes() for name in 'abc')
            assert a == b
            assert a != c
            assert a[4:8] == b'\0\0\0\0'  # gzip mtime 0


def test_existing_files_are_skipped_unless_overwrite(tmp_path):
    day = datetime.date(2019, 1, 1)
    first = generate(tmp_path, day, 1, 100, 100, 1)
    assert (first.written, first.skipped, first.rows) == (2, 0, 200)
    path = path_of(tmp_path, day, 'pypi')
    path.write_bytes(b'kept')
    second = generate(tmp_path, day, 1, 100, 100, 1)
    assert (second.written, second.skipped, second.rows) == (0, 2, 0)
    assert path.read_bytes() == b'kept'
    third = generate(tmp_path, day, 1, 100, 100, 1, overwrite=True)
    assert (third.written, third.skipped) == (2, 0)
    assert read(path)[0] == PYPI_HEADER


def test_too_few_rows_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r'pypi_rows must be >= 50'):
        generate(tmp_path, FIRST_DAY, 1, 10, 100, 1)
    with pytest.raises(ValueError, match=r'days must be >= 1'):
        generate(tmp_path, FIRST_DAY, 0, 100, 100, 1)


# ---------------------------------------------------------------- the README's flask days

def test_flask_day_github_rows_are_the_readme_rows(data_dir):
    rows = [row for row in day_rows(data_dir, readme_days.FLASK_DAY, 'github') if row[2] == 'flask']
    assert rows == [['20180410', 'liks79', 'flask', '1', '', ''],
                    ['20180410', 'dengyifan', 'flask', '', '1', ''],
                    ['20180410', 'xeriok18600', 'flask', '', '1', ''],
                    ['20180410', 'manhhomienbienthuy', 'flask', '', '10', ''],
                    ['20180410', 'davidism', 'flask', '', '49', ''],
                    ['20180410', 'pallets', 'flask', '10', '6', '3']]


def test_flask_day_pypi_rows_start_with_the_readme_rows_and_sum_to_45104(data_dir):
    rows = [row for row in day_rows(data_dir, readme_days.FLASK_DAY, 'pypi') if row[1] == 'flask']
    assert ['\t'.join(row) for row in rows[:10]] == [
        '20180410\tflask\t0.1\t\tbandersnatch\t1', '20180410\tflask\t0.2\t\tbandersnatch\t1',
        '20180410\tflask\t0.5\t\tbandersnatch\t1', '20180410\tflask\t0.6\t\tbandersnatch\t1',
        '20180410\tflask\t0.8\t\tbandersnatch\t1', '20180410\tflask\t0.9\t\tbandersnatch\t1',
        '20180410\tflask\t0.10\t2.6\tpip\t1', '20180410\tflask\t0.11\t\tBrowser\t1',
        '20180410\tflask\t0.11\t\tbandersnatch\t1', '20180410\tflask\t0.5.1\t\tbandersnatch\t1']
    assert len(rows) > 10
    assert sum(int(row[5]) for row in rows) == 45104


def test_all_readme_days_have_the_readme_flask_sums(tmp_path):
    generate(tmp_path, datetime.date(2018, 3, 31), 12, 100, 100, 3)
    sums = {}
    for day in readme_days.FLASK_TOTALS:
        pypi_rows = [row for row in day_rows(tmp_path, day, 'pypi') if row[1] == 'flask']
        github_rows = [row for row in day_rows(tmp_path, day, 'github') if row[2] == 'flask']
        sums[day] = (sum(int(row[5]) for row in pypi_rows),
                     *(sum(int(row[column] or 0) for row in github_rows) for column in (3, 4, 5)))
    assert sums == readme_days.FLASK_TOTALS
    assert sums[datetime.date(2018, 4, 1)] == (68685, 4, 6, 0)
    # bandersnatch (mirror) rows exist on the README's day only
    for day in (datetime.date(2018, 3, 31), datetime.date(2018, 4, 9), datetime.date(2018, 4, 11)):
        assert 'bandersnatch' not in {row[4] for row in day_rows(tmp_path, day, 'pypi')}


def test_flask_is_an_ordinary_project_on_other_days(data_dir):
    rows = [row for row in day_rows(data_dir, datetime.date(2018, 4, 11), 'pypi') if row[1] == 'flask']
    assert rows
    assert 15_000 < sum(int(row[5]) for row in rows) < 150_000  # README's days: 33k..71k


# ---------------------------------------------------------------- realism

def test_shipped_project_list():
    projects = read_ranked_projects()
    assert len(projects) == 3000
    assert [rank for rank, _, _ in projects] == list(range(1, 3001))
    names = [name for _, name, _ in projects]
    assert len(set(names)) == 3000 and 'flask' in names and 'requests' in names[:20]
    assert all(re.match(r'^[a-z0-9]+(-[a-z0-9]+)*$', name) for name in names)


def test_release_histories_are_realistic():
    cat = catalog(SEED)
    flask = cat.projects[cat.index['flask']]
    assert flask.versions[-1] == '0.12.2' and '0.5.1' in flask.versions
    assert all(VERSION.match(version) for project in cat.projects for version in project.versions)
    assert max(len(project.versions) for project in cat.projects[:10]) >= 100
    assert len(cat.projects[-1].versions) < 20
    assert cat.projects[0].version_probabilities[-1] > cat.projects[0].version_probabilities[0]
    assert any(re.search(r'(a|b|rc)[0-9]$', version) for project in cat.projects for version in project.versions)


def test_downloads_are_heavy_tailed(data_dir):
    rows = day_rows(data_dir, datetime.date(2018, 4, 11), 'pypi')
    downloads = collections.Counter()
    for row in rows:
        downloads[row[1]] += int(row[5])
    top = sorted(downloads.values(), reverse=True)
    assert len(top) > 1000
    assert sum(top[:len(top) // 100]) / sum(top) > 0.4  # Zipf over 3000 projects: about 0.46
    rows_per_project = sorted(collections.Counter(row[1] for row in rows).values())
    assert rows_per_project[-1] > 50 * rows_per_project[len(rows_per_project) // 2]


def test_installer_and_python_proportions(data_dir):
    rows = day_rows(data_dir, datetime.date(2018, 4, 11), 'pypi')
    installers = collections.Counter(row[4] for row in rows)
    assert installers.most_common(1)[0][0] == 'pip'
    assert 0.4 < installers['pip'] / len(rows) < 0.8
    assert {'uv', 'poetry', 'requests', 'setuptools', 'Browser', ''} <= set(installers)
    assert 0 < installers[''] / len(rows) < 0.1  # a few NULL installers
    pythons = collections.Counter(row[3] for row in rows)
    assert 0.1 < pythons[''] / len(rows) < 0.35  # a good share of NULL Python versions
    assert {'3.11', '3.10', '3.12', '3.9', '3.8', '2.7'} <= set(pythons)


def test_github_repositories(data_dir):
    day_a, day_b = (day_rows(data_dir, datetime.date(2018, 4, d), 'github') for d in (10, 11))
    project_names = set(catalog(SEED).index)
    repositories = [row[2] for row in day_b]
    project_rows = sum(repository in project_names for repository in repositories)
    assert 0.05 < project_rows / len(day_b) < 0.2  # project repositories and their forks
    assert len(set(repositories)) > 0.7 * len(day_b)
    # most unrelated repositories are new each day
    unrelated_a = {(row[1], row[2]) for row in day_a if row[2] not in project_names}
    unrelated_b = [(row[1], row[2]) for row in day_b if row[2] not in project_names]
    assert sum(key in unrelated_a for key in unrelated_b) < 0.05 * len(unrelated_b)
    for column in (3, 4, 5):  # each metric is often NULL and heavy-tailed
        values = sorted(int(row[column]) for row in day_b if row[column])
        assert 0 < len(values) < len(day_b)
        assert values[len(values) // 2] <= 3 and values[-1] >= 20


def test_scale_to_total_is_exact():
    assert pypi.scale_to_total([1.0, 1.0, 1.0], 10) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert sum(pypi.scale_to_total([0.001, 5.0, 123.4], 45094)) == 45094
    assert pypi.scale_to_total([0.5, 0.1], 2) == [1, 1]


# ---------------------------------------------------------------- CLI

def test_cli_generates_and_prints_a_line_per_file(tmp_path):
    command = CLICK_COMMANDS['sample-data']
    arguments = ['generate', '--data-dir', str(tmp_path), '--days', '2', '--start-date', '2020-02-28',
                 '--pypi-rows', '120', '--github-rows', '80', '--seed', '5']
    result = CliRunner().invoke(command, arguments)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 5
    assert f'wrote {path_of(tmp_path, datetime.date(2020, 2, 29), "github")}: 80 rows' in result.output
    assert lines[-1].startswith('2 days from 2020-02-28: 4 files written (400 rows), 0 skipped')
    again = CliRunner().invoke(command, arguments)
    assert again.output.count('skipped') == 5 and '0 files written' in again.output


def test_cli_defaults_and_benchmark_volume(monkeypatch, tmp_path):
    calls = []
    def fake_generate(*args, **kwargs):
        calls.append(args)
        return generator.GenerationSummary((), 0.0)

    monkeypatch.setattr(generator, 'generate', fake_generate)
    monkeypatch.setenv('DATA_DIR', str(tmp_path))
    command = CLICK_COMMANDS['sample-data']
    assert CliRunner().invoke(command, ['generate']).exit_code == 0
    assert CliRunner().invoke(command, ['generate', '--benchmark-volume']).exit_code == 0
    assert CliRunner().invoke(command, ['generate', '--benchmark-volume', '--pypi-rows', '1000']).exit_code == 0
    assert calls[0] == (tmp_path, datetime.date(2018, 4, 1), 10, 20_000, 20_000, 42)
    assert calls[1][3:5] == (220_000, 210_000)
    assert calls[2][3:5] == (1000, 210_000)
