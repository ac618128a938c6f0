"""One day of `pypi/downloads-v1.csv.gz`: distinct (project, version, python, installer) rows."""

import bisect
import datetime
import random

from . import readme_days
from .catalog import Catalog, cumulative

# Installer shares of PyPI downloads ('' is NULL). Mirrors (bandersnatch) are excluded by the
# downloader's query; only the README's flask day has some.
INSTALLERS = ('pip', 'uv', 'poetry', 'requests', 'setuptools', 'Browser', 'Artifactory', 'pdm', 'pipenv',
              'Nexus', 'pex', 'devpi', '')
INSTALLER_SHARES = (70, 11, 4, 3, 1.5, 1.5, 1.0, 0.6, 0.5, 0.4, 0.2, 0.1, 2)
# Only real installers report the Python version; browsers, HTTP libraries and proxies mostly don't.
REPORTS_PYTHON = {'pip', 'uv', 'poetry', 'setuptools', 'pdm', 'pipenv', 'pex', 'devpi'}
PYTHONS = ('3.11', '3.12', '3.10', '3.9', '3.13', '3.8', '3.7', '2.7', '3.6', '3.14', '3.5', '3.4', '2.6', '')
PYTHON_SHARES = {
    True: (17, 16, 13, 9, 9, 5, 3, 1.5, 1, 1, 0.3, 0.1, 0.05, 8),
    False: (1.7, 1.6, 1.3, 0.9, 0.9, 0.5, 0.3, 0.15, 0.1, 0.1, 0.03, 0.01, 0.005, 90),
}
WEEKEND_FACTOR = 0.7
# Drawn keys per needed key before giving up (only reachable with absurd row counts).
MAX_DRAWS_PER_ROW = 50
MAX_FLASK_ROWS = 1000  # of its about 4000 possible keys


def _probabilities(shares) -> tuple[float, ...]:
    return tuple(share / sum(shares) for share in shares)


def _normalized_cum(shares) -> list[float]:
    cum = [value / sum(shares) for value in cumulative(shares)]
    cum[-1] = 1.0
    return cum


INSTALLER_P = _probabilities(INSTALLER_SHARES)
INSTALLER_CUM = _normalized_cum(INSTALLER_SHARES)
PYTHON_P = {reports: _probabilities(shares) for reports, shares in PYTHON_SHARES.items()}
PYTHON_CUM_OF_INSTALLER = [_normalized_cum(PYTHON_SHARES[name in REPORTS_PYTHON]) for name in INSTALLERS]
PYTHON_P_OF_INSTALLER = [PYTHON_P[name in REPORTS_PYTHON] for name in INSTALLERS]


def sample_keys(rng: random.Random, cat: Catalog, keys: dict, target: int, draw_projects) -> None:
    """Adds distinct (project, version, installer, python) index keys to `keys` until it has `target`.

    Keys are drawn by download probability, so popular combinations come first and the rare ones
    (old versions, odd Pythons) only for projects with many rows."""
    version_cums = [project.version_cum for project in cat.projects]
    rand, right = rng.random, bisect.bisect_right
    draws = 0
    while len(keys) < target:
        if draws > MAX_DRAWS_PER_ROW * target + 10_000:
            raise RuntimeError(f'cannot find {target} distinct PyPI rows; ask for fewer')
        batch = draw_projects(max(256, 2 * (target - len(keys))))
        draws += len(batch)
        for p in batch:
            i = right(INSTALLER_CUM, rand())
            keys[(p, right(version_cums[p], rand()), i, right(PYTHON_CUM_OF_INSTALLER[i], rand()))] = None
            if len(keys) >= target:
                break


def project_factors(rng: random.Random, cat: Catalog, day: datetime.date) -> list[float]:
    """Expected downloads of each project on `day`: Zipf by rank, a weekend dip, daily noise."""
    weekday = WEEKEND_FACTOR if day.weekday() >= 5 else 1.0
    return [expected * weekday * rng.lognormvariate(0, 0.2) for expected in cat.expected_downloads]


def row_weight(rng: random.Random, cat: Catalog, key: tuple) -> float:
    """A row's (noisy) share of its project's downloads."""
    p, v, i, y = key
    return (cat.projects[p].version_probabilities[v] * INSTALLER_P[i] * PYTHON_P_OF_INSTALLER[i][y]
            * rng.lognormvariate(0, 0.9))


def numbers_of_downloads(rng: random.Random, cat: Catalog, keys: list[tuple],
                         totals: dict[int, float]) -> list[int]:
    """Each project's downloads of the day (`totals`, by project index) spread over its rows, so that a
    project's sum does not depend on how many rows are asked for."""
    weights = [row_weight(rng, cat, key) for key in keys]
    rows_of_project: dict[int, list[int]] = {}
    for j, key in enumerate(keys):
        rows_of_project.setdefault(key[0], []).append(j)
    numbers = [0] * len(keys)
    for p, rows in rows_of_project.items():
        total = max(len(rows), round(totals[p]))
        for j, number in zip(rows, scale_to_total([weights[j] for j in rows], total)):
            numbers[j] = number
    return numbers


def scale_to_total(values: list[float], total: int) -> list[int]:
    """Positive `values` scaled to ints >= 1 that sum to exactly `total` (largest remainders)."""
    rest, weight = total - len(values), sum(values)
    assert rest >= 0, (total, len(values))
    shares = [value * rest / weight for value in values]
    scaled = [int(share) for share in shares]
    by_remainder = sorted(range(len(values)), key=lambda j: scaled[j] - shares[j])
    for j in by_remainder[:rest - sum(scaled)]:
        scaled[j] += 1
    return [1 + value for value in scaled]


def line(cat: Catalog, day_id: int, key: tuple, number: int) -> str:
    p, v, i, y = key
    project = cat.projects[p]
    return f'{day_id}\t{project.name}\t{project.versions[v]}\t{PYTHONS[y]}\t{INSTALLERS[i]}\t{number}\n'


def readme_key(cat: Catalog, version: str, python: str, installer: str) -> tuple | None:
    """Index key of a README row, or None when it uses values that generated rows never have."""
    flask = cat.projects[cat.index[readme_days.FLASK]]
    if installer not in INSTALLERS:
        return None
    return (cat.index[readme_days.FLASK], flask.versions.index(version),
            INSTALLERS.index(installer), PYTHONS.index(python))


def flask_block(rng: random.Random, cat: Catalog, day: datetime.date, number_of_rows: int) -> list[str]:
    """flask's rows on a README day: the README's example rows first, then made-up ones, summing to
    the README's number of downloads."""
    day_id = int(day.strftime('%Y%m%d'))
    flask = cat.index[readme_days.FLASK]
    example_rows = readme_days.FLASK_DAY_PYPI_ROWS if day == readme_days.FLASK_DAY else ()
    taken = dict.fromkeys(key for key in (readme_key(cat, *row[:3]) for row in example_rows) if key)
    keys = dict(taken)
    sample_keys(rng, cat, keys, len(taken) + number_of_rows, lambda k: [flask] * k)
    keys = [key for key in keys if key not in taken]
    total = readme_days.FLASK_TOTALS[day][0] - sum(row[3] for row in example_rows)
    numbers = numbers_of_downloads(rng, cat, keys, {flask: total})
    return ([f'{day_id}\t{readme_days.FLASK}\t{version}\t{python}\t{installer}\t{number}\n'
             for version, python, installer, number in example_rows]
            + [line(cat, day_id, key, number) for key, number in zip(keys, numbers)])


def flask_rows_wanted(cat: Catalog, number_of_rows: int) -> int:
    """As many flask rows as flask would get on an ordinary day with this volume."""
    flask = cat.index[readme_days.FLASK]
    share = (cat.row_cum_weights[flask] - cat.row_cum_weights[flask - 1]) / cat.row_cum_weights[-1]
    return max(1, min(MAX_FLASK_ROWS, round(number_of_rows * share)))


def day_lines(cat: Catalog, day: datetime.date, number_of_rows: int, seed: int) -> list[str]:
    """The data lines (no header) of one day, exactly `number_of_rows` of them."""
    rng = random.Random(f'{seed}:{day.isoformat()}:pypi')
    day_id = int(day.strftime('%Y%m%d'))
    factors = project_factors(rng, cat, day)
    block, skip = [], -1
    if day in readme_days.FLASK_TOTALS:
        block = flask_block(rng, cat, day, flask_rows_wanted(cat, number_of_rows))
        skip = cat.index[readme_days.FLASK]
    population, cum = range(len(cat.projects)), cat.row_cum_weights

    def draw_projects(k: int) -> list[int]:
        return [p for p in rng.choices(population, cum_weights=cum, k=k) if p != skip]

    keys: dict = {}
    sample_keys(rng, cat, keys, number_of_rows - len(block), draw_projects)
    keys = list(keys)
    numbers = numbers_of_downloads(rng, cat, keys, dict(enumerate(factors)))
    lines = [line(cat, day_id, key, number) for key, number in zip(keys, numbers)]
    position = rng.randrange(len(lines) + 1)
    return lines[:position] + block + lines[position:]
