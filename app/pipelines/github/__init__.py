"""The `github` pipeline: GitHub repository activity per day into the star schema `gh_dim`."""

import pathlib

from mara_pipelines.commands.sql import ExecuteSQL
from mara_pipelines.parallel_tasks.sql import ParallelExecuteSQL
from mara_pipelines.pipelines import Pipeline

from app.pipelines.loading import ParallelReadDayFiles, chunks, sql_replacements, sql_task


def pipeline() -> Pipeline:
    """Builds the `github` pipeline."""
    github = Pipeline(
        id='github',
        description='Builds the star schema gh_dim of GitHub repository activity from the daily activity files.',
        base_path=pathlib.Path(__file__).parent,
        labels={'Schema': 'gh_dim'})

    github.add(ParallelReadDayFiles(
        id='read_repo_activity',
        description='Loads new and changed GitHub activity files into the day partitions of github_data.repo_activity.',
        file_pattern='*/*/*/github/repo-activity-v1.csv.gz',
        target_table='github_data.repo_activity',
        commands_before=[ExecuteSQL(sql_file_name='create_github_data.sql', echo_queries=False)]))

    github.add(sql_task(
        id='create_gh_dim_next',
        description='Creates gh_dim_next with empty tables of the facts and the flat data set.',
        sql_file_name='create_gh_dim_next.sql'),
        upstreams=['read_repo_activity'])

    github.add(sql_task(
        id='transform_repo',
        description='Builds the repository dimension of gh_dim_next from all days.',
        sql_file_name='transform_repo.sql'),
        upstreams=['create_gh_dim_next'])

    github.add(ParallelExecuteSQL(
        id='transform_repo_activity',
        description='Fills the repository activity facts and the flat data set, in chunks of days.',
        file_name='transform_repo_activity.sql',
        parameter_function=chunks,
        parameter_placeholders=['@chunk@'],
        replace=sql_replacements(),
        echo_queries=False),
        upstreams=['create_gh_dim_next'])

    github.add(sql_task(
        id='publish_gh_dim',
        description='Attaches the data set chunks, declares the foreign keys and publishes gh_dim_next as gh_dim.',
        sql_file_name='publish_gh_dim.sql'),
        upstreams=['transform_repo', 'transform_repo_activity'])

    return github
