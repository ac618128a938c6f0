"""The `github` pipeline: GitHub repository activity per day into the star schema `gh_dim`.

Layers: the files' rows in github_data (raw, one partition per day; files of version 1 and 2 side by side),
the staging view with keys, dates and 'Unknown' names (repo_activity_staging.sql), one SQL file per dimension
and fact, and the flat data set. Each run builds only the days that changed (see app/pipelines/loading.py).
"""

import pathlib

from mara_pipelines.pipelines import Pipeline

from app import data_sets
from app.pipelines.loading import BuildDays, FilePipeline, Layers, sql_task

GITHUB = FilePipeline(data_set=data_sets.GITHUB, layers=Layers(data_schema='github_data', dim_schema='gh_dim'),
                      raw_table='repo_activity', sql_dir=pathlib.Path(__file__).parent)


def pipeline() -> Pipeline:
    """Builds the `github` pipeline."""
    github = Pipeline(
        id='github',
        description='Builds the star schema gh_dim of GitHub repository activity from the daily activity files.',
        base_path=GITHUB.sql_dir,
        labels={'Schema': 'gh_dim'})

    github.add(GITHUB.plan_task(
        'plan_repo_activity',
        'Compares the GitHub files with the published days and prepares the days to build and to take out.',
        'create_gh_dim_next.sql', 'repo_activity_staging.sql'))

    github.add(GITHUB.read_task(
        'read_repo_activity', 'Loads the new and changed GitHub files into the day partitions of github_data_next.'),
        upstreams=['plan_repo_activity'])

    github.add(GITHUB.check_task(
        'check_repo_activity', 'Checks the loaded files: counts not negative, one row per repository.'),
        upstreams=['read_repo_activity'])

    github.add(sql_task(
        'transform_repo', 'Collects the repositories of the days.', 'repo.sql'),
        upstreams=['check_repo_activity'])

    github.add(BuildDays(
        'transform_repo_activity', 'Builds the repository activity facts and the flat data set, by days.',
        planned_days_table='github_data_next.planned_day', rows_column='number_of_rows',
        sql_file_names=['repo_activity.sql', 'repo_activity_data_set.sql']),
        upstreams=['check_repo_activity'])

    github.add(sql_task(
        'publish_gh_dim', 'Publishes the built days and repositories into github_data and gh_dim in one transaction.',
        'publish_gh_dim.sql'),
        upstreams=['transform_repo', 'transform_repo_activity'])

    return github
