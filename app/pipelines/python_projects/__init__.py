"""The `python_projects` pipeline: PyPI downloads and GitHub activity per Python project and day (`pp_dim`).

It reads the published pypi_dim and gh_dim, and builds only the days whose PyPI or GitHub file changed since
it built them (pp_data.published_day).
"""

import pathlib

from mara_pipelines.pipelines import Pipeline

from app.pipelines.loading import BuildDays, DerivedPipeline, Layers, sql_task

PYTHON_PROJECTS = DerivedPipeline(layers=Layers(data_schema='pp_data', dim_schema='pp_dim'),
                                  sql_dir=pathlib.Path(__file__).parent, upstream_schemas=('pypi_dim', 'gh_dim'))


def pipeline() -> Pipeline:
    """Builds the `python_projects` pipeline."""
    python_projects = Pipeline(
        id='python_projects',
        description='Merges PyPI downloads and GitHub activity by day and project name into pp_dim.',
        base_path=PYTHON_PROJECTS.sql_dir,
        labels={'Schema': 'pp_dim'})

    python_projects.add(PYTHON_PROJECTS.plan_task(
        'plan_python_project_activity',
        'Lists the days whose PyPI or GitHub file changed since pp_dim was built, and prepares pp_dim_next.',
        before='create_pp_data.sql', after=['plan_days.sql', 'create_pp_dim_next.sql']))

    python_projects.add(BuildDays(
        'transform_python_project_activity', 'Builds the project activity and its flat data set, by days.',
        planned_days_table='pp_data_next.planned_day',
        sql_file_names=['python_project_activity.sql', 'python_project_activity_data_set.sql']),
        upstreams=['plan_python_project_activity'])

    python_projects.add(sql_task(
        'publish_pp_dim', 'Publishes the built days into pp_dim in one transaction.', 'publish_pp_dim.sql'),
        upstreams=['transform_python_project_activity'])

    return python_projects
