"""One day of `github/repo-activity-v1.csv.gz`: distinct (user, repository) rows with activity metrics.

Three kinds of repositories: each PyPI project's own one (repository = project name, under its owner),
forks of those under other users (same repository name), and many unrelated ones with made-up names,
most of them new each day.
"""

import datetime
import random

from . import names, readme_days
from .catalog import Catalog

OWN_REPOSITORY_SHARE = 0.05
MAX_ACTIVE_PROJECT_SHARE = 0.6  # of all projects, so that drawing distinct ones stays cheap
FORK_SHARE = 0.06
ACTIVE_USER_SHARE = 0.5  # of unrelated rows; the others are by users seen (almost) only once


def heavy(rng: random.Random, alpha: float, scale: float = 1.0, cap: int = 100_000) -> int:
    """A heavy-tailed count >= 1 (Pareto): mostly small, sometimes huge."""
    return min(cap, int(scale * rng.paretovariate(alpha)))


def own_metrics(rng: random.Random, rank: int) -> tuple[int, int, int]:
    popularity = 55 * rank ** -0.5  # 55 for the top project, 1 for rank 3000
    forks = heavy(rng, 1.6, 1 + popularity / 3) if rng.random() < min(0.95, 0.15 + 0.05 * popularity) else 0
    commits = heavy(rng, 1.3, 1 + popularity / 5, 5000) if rng.random() < 0.6 else 0
    closed_share = min(0.9, 0.1 + 0.04 * popularity)
    closed = heavy(rng, 1.5, 1 + popularity / 8, 2000) if rng.random() < closed_share else 0
    return forks, commits or (0 if forks or closed else 1), closed


def fork_metrics(rng: random.Random) -> tuple[int, int, int]:
    r = rng.random()
    if r < 0.5:
        return heavy(rng, 3.0, cap=20), 0, 0
    if r < 0.92:
        return 0, heavy(rng, 1.4, cap=500), 0
    return 0, heavy(rng, 1.4, cap=500) if rng.random() < 0.5 else 0, heavy(rng, 2.0, cap=50)


def unrelated_metrics(rng: random.Random) -> tuple[int, int, int]:
    rand = rng.random
    forks = heavy(rng, 1.8, cap=2000) if rand() < 0.07 else 0
    closed = heavy(rng, 1.6, cap=1000) if rand() < 0.10 else 0
    commits = heavy(rng, 1.3, cap=10_000) if rand() < 0.88 or not (forks or closed) else 0
    return forks, commits, closed


def line(day_id: int, user: str, repository: str, metrics: tuple[int, int, int]) -> str:
    forks, commits, closed = metrics
    return f'{day_id}\t{user}\t{repository}\t{forks or ""}\t{commits or ""}\t{closed or ""}\n'


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` as `parts` random positive ints."""
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def flask_rows(rng: random.Random, cat: Catalog, day: datetime.date) -> list[tuple[str, tuple]]:
    """flask's rows on a README day: the README's rows on its day, otherwise made-up ones (pallets/flask
    and some forks) with the README's sums."""
    if day == readme_days.FLASK_DAY:
        return [(user, metrics) for user, *metrics in readme_days.FLASK_DAY_GITHUB_ROWS]
    forks, commits, closed = readme_days.FLASK_TOTALS[day][1:]
    forking_users = rng.randint(0, forks // 2)
    commit_parts = split(commits, rng.randint(1, max(1, min(4, commits // 3))), rng)
    users = [user for user in rng.sample(cat.active_users, 20) if user != 'pallets']
    users = users[:forking_users + len(commit_parts) - 1]
    rows = [('pallets', (forks - forking_users, commit_parts[0], closed))]
    rows += [(user, (1, 0, 0)) for user in users[:forking_users]]
    rows += [(user, (0, part, 0)) for user, part in zip(users[forking_users:], commit_parts[1:])]
    return rows


class Day:
    """Collects one day's distinct (user, repository) rows."""

    def __init__(self, cat: Catalog, day: datetime.date, seed: int):
        self.cat, self.day_id = cat, int(day.strftime('%Y%m%d'))
        self.rng = random.Random(f'{seed}:{day.isoformat()}:github')
        self.rows: dict[tuple[str, str], tuple[int, int, int]] = {}
        self.project_names = set(cat.index)
        self.skip = -1

    def add_own_repositories(self, count: int) -> None:
        rng, projects = self.rng, self.cat.projects
        count = min(count, int(MAX_ACTIVE_PROJECT_SHARE * len(projects)))
        weights = [project.rank ** -0.5 for project in projects]
        active: dict[int, None] = {}
        while len(active) < count:
            for p in rng.choices(range(len(projects)), weights=weights, k=count - len(active)):
                if p != self.skip:
                    active[p] = None
        for p in list(active)[:count]:
            project = projects[p]
            self.rows[(project.owner, project.name)] = own_metrics(rng, project.rank)

    def add_forks(self, count: int) -> None:
        rng, cat, target = self.rng, self.cat, len(self.rows) + count
        while len(self.rows) < target:
            missing = target - len(self.rows)
            for p in rng.choices(range(len(cat.projects)), cum_weights=cat.fork_cum_weights, k=missing):
                user = rng.choice(cat.active_users) if rng.random() < 0.6 else names.user_name(rng)
                project = cat.projects[p]
                if p != self.skip and user != project.owner and (user, project.name) not in self.rows:
                    self.rows[(user, project.name)] = fork_metrics(rng)

    def add_unrelated(self, count: int) -> None:
        rng, cat, target = self.rng, self.cat, len(self.rows) + count
        words, word_cum = names.words(), names.word_cum_weights()
        while len(self.rows) < target:
            missing = target - len(self.rows)
            picked = rng.choices(words, cum_weights=word_cum, k=3 * missing)
            active = rng.choices(cat.active_users, cum_weights=cat.active_user_cum_weights, k=missing)
            for j in range(missing):
                user = active[j] if rng.random() < ACTIVE_USER_SHARE else names.user_name(rng)
                repository = names.repository_name(rng, picked[3 * j:3 * j + 3], user)
                # Only a project's own repository and its forks have a project's name.
                if repository not in self.project_names and (user, repository) not in self.rows:
                    self.rows[(user, repository)] = unrelated_metrics(rng)

    def lines(self, number_of_rows: int, day: datetime.date) -> list[str]:
        block = []
        if day in readme_days.FLASK_TOTALS:
            self.skip = self.cat.index[readme_days.FLASK]
            block = [line(self.day_id, user, readme_days.FLASK, metrics)
                     for user, metrics in flask_rows(self.rng, self.cat, day)]
        generic = number_of_rows - len(block)
        self.add_own_repositories(round(generic * OWN_REPOSITORY_SHARE))
        self.add_forks(round(generic * FORK_SHARE))
        self.add_unrelated(generic - len(self.rows))
        lines = [line(self.day_id, user, repository, metrics)
                 for (user, repository), metrics in self.rows.items()]
        self.rng.shuffle(lines)  # GitHub activity of all kinds comes mixed, as from BigQuery
        position = self.rng.randrange(len(lines) + 1)
        return lines[:position] + block + lines[position:]


def day_lines(cat: Catalog, day: datetime.date, number_of_rows: int, seed: int) -> list[str]:
    """The data lines (no header) of one day, exactly `number_of_rows` of them."""
    return Day(cat, day, seed).lines(number_of_rows, day)
