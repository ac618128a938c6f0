"""Everything about the sample's world that stays the same across days: projects, releases, owners, users.

Built once per seed (and process) from the shipped `pypi_projects.txt`.
"""

import dataclasses
import functools
import pathlib
import random

from . import names, versions
from .vocabulary import KNOWN_OWNERS

HERE = pathlib.Path(__file__).resolve().parent
# Expected downloads of the best-ranked project on a weekday; flask (rank 181) gets about 44k,
# close to its 2018 numbers in the README.
TOP_PROJECT_DOWNLOADS = 8_000_000
NUMBER_OF_ACTIVE_USERS = 50_000


@dataclasses.dataclass(frozen=True)
class Project:
    rank: int
    name: str
    owner: str
    versions: tuple[str, ...]
    version_probabilities: tuple[float, ...]
    version_cum: tuple[float, ...]  # normalized, last is exactly 1.0: bisect on random() in [0, 1)


@dataclasses.dataclass(frozen=True)
class Catalog:
    projects: tuple[Project, ...]
    index: dict[str, int]
    # Downloads follow Zipf (1 / rank); rows per day and forks grow slower with popularity.
    expected_downloads: tuple[float, ...]
    row_cum_weights: tuple[float, ...]
    fork_cum_weights: tuple[float, ...]
    active_users: tuple[str, ...]
    active_user_cum_weights: tuple[float, ...]


def cumulative(weights) -> tuple[float, ...]:
    total, cum = 0.0, []
    for weight in weights:
        total += weight
        cum.append(total)
    return tuple(cum)


def normalized_cumulative(weights: list[float]) -> tuple[float, ...]:
    cum = list(cumulative(weights))
    cum = [value / cum[-1] for value in cum]
    cum[-1] = 1.0
    return tuple(cum)


def read_ranked_projects() -> list[tuple[int, str, str]]:
    """(rank, name, newest version) from the shipped list, best first."""
    rows = []
    for line in (HERE / 'pypi_projects.txt').read_text().splitlines():
        rank, name, latest = line.split('\t')
        rows.append((int(rank), name, latest))
    return sorted(rows)


def number_of_releases(rank: int) -> int:
    """Popular projects have many releases (boto3: hundreds), the tail a handful."""
    return max(4, min(250, round(250 * rank ** -0.45)))


def owner_of(name: str, rng: random.Random, users: tuple[str, ...]) -> str:
    if name in KNOWN_OWNERS:
        return KNOWN_OWNERS[name]
    r = rng.random()
    # GitHub user and organization names have at most 39 characters.
    if r < 0.35 and len(name) <= 39:
        return name
    if r < 0.55 and len(name) <= 31:
        return rng.choice((f'{name}-dev', f'py{name}', f'{name}-org', f'{name}-project'))
    return rng.choice(users)


def make_project(rank: int, name: str, latest: str, rng: random.Random, users: tuple[str, ...]) -> Project:
    if name == 'flask':
        releases = list(versions.FLASK_2018_RELEASES)
    else:
        releases = versions.release_history(latest, number_of_releases(rank), rng)
    weights = versions.download_weights(releases, rng)
    total = sum(weights)
    return Project(rank=rank, name=name, owner=owner_of(name, rng, users), versions=tuple(releases),
                   version_probabilities=tuple(weight / total for weight in weights),
                   version_cum=normalized_cumulative(weights))


@functools.lru_cache(maxsize=4)
def catalog(seed: int) -> Catalog:
    rng = random.Random(f'{seed}:catalog')
    users = tuple(dict.fromkeys(names.user_name(rng) for _ in range(NUMBER_OF_ACTIVE_USERS)))
    projects = tuple(make_project(rank, name, latest, rng, users)
                     for rank, name, latest in read_ranked_projects())
    return Catalog(
        projects=projects,
        index={project.name: i for i, project in enumerate(projects)},
        expected_downloads=tuple(TOP_PROJECT_DOWNLOADS / project.rank for project in projects),
        row_cum_weights=cumulative(project.rank ** -0.8 for project in projects),
        fork_cum_weights=cumulative(project.rank ** -0.5 for project in projects),
        active_users=users,
        # A few very active users (and bots) push to many repositories every day.
        active_user_cum_weights=cumulative((i + 1) ** -0.7 for i in range(len(users))))
