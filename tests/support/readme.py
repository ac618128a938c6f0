"""What the README shows: its example query and the rows it answers with on the sample data."""

import datetime

# The example query of the original README, verbatim.
README_QUERY = """SELECT
  _date, project_name, number_of_downloads, number_of_forks,
  number_of_commits, number_of_closed_pull_requests
FROM pp_dim.python_project_activity
  JOIN pypi_dim.project ON project_id = project_fk
  JOIN time.day ON day_fk = day_id
WHERE project_name = 'flask'
ORDER BY day_fk DESC
LIMIT 10;"""

# Its output in the README.
README_ROWS = [
    (datetime.date(2018, 4, 10), 'flask', 45104, 11, 67, 3),
    (datetime.date(2018, 4, 9), 'flask', 57177, 13, 45, 4),
    (datetime.date(2018, 4, 8), 'flask', 70392, 13, 7, None),
    (datetime.date(2018, 4, 7), 'flask', 65060, 10, 7, None),
    (datetime.date(2018, 4, 6), 'flask', 70779, 7, 11, 2),
    (datetime.date(2018, 4, 5), 'flask', 62215, 6, 22, None),
    (datetime.date(2018, 4, 4), 'flask', 33116, 11, 23, None),
    (datetime.date(2018, 4, 3), 'flask', 39248, 15, 27, None),
    (datetime.date(2018, 4, 2), 'flask', 54517, 14, 17, None),
    (datetime.date(2018, 4, 1), 'flask', 68685, 4, 6, None),
]

# The README's GitHub rows of repositories named flask on 2018-04-10 (user, forks, commits, closed PRs).
README_FLASK_GITHUB_ROWS = [('liks79', 1, None, None), ('dengyifan', None, 1, None), ('xeriok18600', None, 1, None),
                            ('manhhomienbienthuy', None, 10, None), ('davidism', None, 49, None),
                            ('pallets', 10, 6, 3)]
