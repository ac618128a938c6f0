"""The `utils` pipeline: the project's SQL helpers (schema `util`) and the time dimension (schema `time`)."""

import pathlib

from mara_pipelines.commands.sql import ExecuteSQL
from mara_pipelines.pipelines import Pipeline, Task

from app import config


def pipeline() -> Pipeline:
    """Builds the `utils` pipeline."""
    utils = Pipeline(
        id='utils',
        description='Creates the SQL helpers of schema util and the time dimension.',
        base_path=pathlib.Path(__file__).parent)

    utils.add(Task(
        id='initialize_utils',
        description='Creates the helper functions for publishing schemas, chunking days and adding indexes.',
        commands=[ExecuteSQL(sql_file_name='initialize_utils.sql')]))

    utils.add(Task(
        id='create_time_dimension',
        description='Builds time.day with one row per day from the first configured date until yesterday.',
        commands=[ExecuteSQL(sql_file_name='create_time_dimension.sql',
                             replace={'@first_date@': config.first_date().isoformat(),
                                      '@last_date@': config.last_date().isoformat()})]),
        upstreams=['initialize_utils'])

    return utils
