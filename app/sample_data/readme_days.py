"""Facts of the original project README, reproduced whenever their days are generated.

The README shows flask's numbers for 2018-04-01..10 (downloads, forks, commits, closed pull requests)
and, for 2018-04-10, the actual file rows. Those days get exactly these sums.
"""

import datetime

FLASK = 'flask'
FLASK_DAY = datetime.date(2018, 4, 10)

# day -> (number_of_downloads, number_of_forks, number_of_commits, number_of_closed_pull_requests)
FLASK_TOTALS = {
    datetime.date(2018, 4, 10): (45104, 11, 67, 3),
    datetime.date(2018, 4, 9): (57177, 13, 45, 4),
    datetime.date(2018, 4, 8): (70392, 13, 7, 0),
    datetime.date(2018, 4, 7): (65060, 10, 7, 0),
    datetime.date(2018, 4, 6): (70779, 7, 11, 2),
    datetime.date(2018, 4, 5): (62215, 6, 22, 0),
    datetime.date(2018, 4, 4): (33116, 11, 23, 0),
    datetime.date(2018, 4, 3): (39248, 15, 27, 0),
    datetime.date(2018, 4, 2): (54517, 14, 17, 0),
    datetime.date(2018, 4, 1): (68685, 4, 6, 0),
}

# The first ten flask rows of the README's PyPI file, in file order:
# (project_version, python_version, installer, number_of_downloads); '' is NULL.
FLASK_DAY_PYPI_ROWS = (
    ('0.1', '', 'bandersnatch', 1),
    ('0.2', '', 'bandersnatch', 1),
    ('0.5', '', 'bandersnatch', 1),
    ('0.6', '', 'bandersnatch', 1),
    ('0.8', '', 'bandersnatch', 1),
    ('0.9', '', 'bandersnatch', 1),
    ('0.10', '2.6', 'pip', 1),
    ('0.11', '', 'Browser', 1),
    ('0.11', '', 'bandersnatch', 1),
    ('0.5.1', '', 'bandersnatch', 1),
)

# All rows of the README's GitHub file with repository flask: (user, forks, commits, closed PRs); 0 is NULL.
FLASK_DAY_GITHUB_ROWS = (
    ('liks79', 1, 0, 0),
    ('dengyifan', 0, 1, 0),
    ('xeriok18600', 0, 1, 0),
    ('manhhomienbienthuy', 0, 10, 0),
    ('davidism', 0, 49, 0),
    ('pallets', 10, 6, 3),
)
