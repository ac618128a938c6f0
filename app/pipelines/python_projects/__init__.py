"""The `python_projects` pipeline: PyPI downloads and GitHub activity per Python project and day (`pp_dim`)."""

import pathlib

from mara_pipelines.pipelines import Pipeline

from app.pipelines.loading import sql_task


def pipeline() -> Pipeline:
    """Builds the `python_projects` pipeline."""
    python_projects = Pipeline(
        id='python_projects',
        description='Merges PyPI downloads and GitHub activity by day and project name into pp_dim.',
        base_path=pathlib.Path(__file__).parent,
        labels={'Schema': 'pp_dim'})

    # One node: it aggregates the small daily project table of pypi_dim and the few repositories named
    # like projects, so chunks of days would cost more process start-ups than they save.
    python_projects.add(sql_task(
        id='transform_python_project_activity',
        description='Builds pp_dim.python_project_activity and its flat data set, and publishes pp_dim.',
        sql_file_name='transform_python_project_activity.sql'))

    return python_projects
