"""The `python_projects` pipeline: PyPI downloads and GitHub activity per Python project and day (`pp_dim`)."""

import pathlib

from mara_pipelines.commands.sql import ExecuteSQL
from mara_pipelines.pipelines import Pipeline, Task

from app.pipelines.loading import sql_replacements


def pipeline() -> Pipeline:
    """Builds the `python_projects` pipeline."""
    python_projects = Pipeline(
        id='python_projects',
        description='Merges PyPI downloads and GitHub activity by day and project name into pp_dim.',
        base_path=pathlib.Path(__file__).parent,
        labels={'Schema': 'pp_dim'})

    # One node: it aggregates the small daily project table of pypi_dim and the few repositories named
    # like projects, so chunks of days would cost more process start-ups than they save.
    python_projects.add(Task(
        id='transform_python_project_activity',
        description='Builds pp_dim.python_project_activity and its flat data set, and publishes pp_dim.',
        commands=[ExecuteSQL(sql_file_name='transform_python_project_activity.sql', replace=sql_replacements(),
                             echo_queries=False)]))

    return python_projects
