"""The `pypi` pipeline: PyPI download counts per day into the star schema `pypi_dim`."""

import pathlib

from mara_pipelines.commands.sql import ExecuteSQL
from mara_pipelines.parallel_tasks.sql import ParallelExecuteSQL
from mara_pipelines.pipelines import Pipeline

from app.pipelines.loading import ParallelReadDayFiles, chunks, sql_replacements, sql_task


def pipeline() -> Pipeline:
    """Builds the `pypi` pipeline."""
    pypi = Pipeline(
        id='pypi',
        description='Builds the star schema pypi_dim of PyPI download counts from the daily download files.',
        base_path=pathlib.Path(__file__).parent,
        labels={'Schema': 'pypi_dim'})

    pypi.add(ParallelReadDayFiles(
        id='read_download_counts',
        description='Loads new and changed PyPI download files into the day partitions of pypi_data.downloads.',
        file_pattern='*/*/*/pypi/downloads-v1.csv.gz',
        target_table='pypi_data.downloads',
        commands_before=[ExecuteSQL(sql_file_name='create_pypi_data.sql', echo_queries=False)]))

    pypi.add(sql_task(
        id='create_pypi_dim_next',
        description='Creates pypi_dim_next with the empty tables of dimensions, facts and the flat data set.',
        sql_file_name='create_pypi_dim_next.sql'),
        upstreams=['read_download_counts'])

    pypi.add(ParallelExecuteSQL(
        id='transform_download_counts',
        description='Fills facts, daily project sketches and the flat data set, and collects members, by chunks.',
        file_name='transform_download_counts.sql',
        parameter_function=chunks,
        parameter_placeholders=['@chunk@'],
        replace=sql_replacements(),
        echo_queries=False),
        upstreams=['create_pypi_dim_next'])

    pypi.add(sql_task(
        id='transform_dimensions',
        description='Builds the project, version, installer and Python version dimensions from the chunks\' members.',
        sql_file_name='transform_dimensions.sql'),
        upstreams=['transform_download_counts'])

    pypi.add(sql_task(
        id='publish_pypi_dim',
        description='Attaches the data set chunks, declares the foreign keys and publishes pypi_dim_next as pypi_dim.',
        sql_file_name='publish_pypi_dim.sql'),
        upstreams=['transform_dimensions'])

    return pypi
