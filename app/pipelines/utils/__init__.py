"""The `utils` pipeline: the project's SQL helpers (schema util) and the time dimension (schema time)."""

import pathlib

from mara_pipelines.pipelines import Pipeline, Task

from app.pipelines.loading import ExecuteSQLFile, pipeline_version, sql_settings, version_comment

HERE = pathlib.Path(__file__).parent


def time_settings() -> dict[str, str]:
    """The configured days, and the version of this pipeline (a changed file rebuilds time.day)."""
    return {**sql_settings(), '@version_comment@': version_comment(pipeline_version(HERE))}


def pipeline() -> Pipeline:
    """Builds the `utils` pipeline."""
    utils = Pipeline(
        id='utils',
        description='Creates the SQL helpers of schema util and the time dimension.',
        base_path=HERE)

    utils.add(Task(
        id='initialize_utils',
        description='Creates the helper functions for publishing days and schemas, partitions and quality gates.',
        commands=[ExecuteSQLFile('initialize_utils.sql')]))

    utils.add(Task(
        id='create_time_dimension',
        description='Adds the days from FIRST_DATE until LAST_DATE to time.day and removes those outside.',
        commands=[ExecuteSQLFile('create_time_dimension.sql', time_settings)]),
        upstreams=['initialize_utils'])

    return utils
