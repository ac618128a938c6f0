"""The `pypi` pipeline: PyPI download counts per day into the star schema `pypi_dim`.

Layers: the files' rows in pypi_data (raw, one partition per day), the staging view with keys, dates and
'Unknown' members (download_staging.sql), one SQL file per dimension and fact, and the flat data set.
Each run builds only the days that changed (see app/pipelines/loading.py).
"""

import pathlib

from mara_pipelines.pipelines import Pipeline

from app import data_sets
from app.pipelines.loading import BuildDays, FilePipeline, Layers, sql_task

PYPI = FilePipeline(data_set=data_sets.PYPI, layers=Layers(data_schema='pypi_data', dim_schema='pypi_dim'),
                    raw_table='downloads', sql_dir=pathlib.Path(__file__).parent)


def pipeline() -> Pipeline:
    """Builds the `pypi` pipeline."""
    pypi = Pipeline(
        id='pypi',
        description='Builds the star schema pypi_dim of PyPI download counts from the daily download files.',
        base_path=PYPI.sql_dir,
        labels={'Schema': 'pypi_dim'})

    pypi.add(PYPI.plan_task(
        'plan_download_counts',
        'Compares the PyPI files with the published days and prepares the days to build and to take out.',
        'create_pypi_dim_next.sql', 'download_staging.sql'))

    pypi.add(PYPI.read_task(
        'read_download_counts', 'Loads the new and changed PyPI files into the day partitions of pypi_data_next.'),
        upstreams=['plan_download_counts'])

    pypi.add(PYPI.check_task(
        'check_download_counts', 'Checks the loaded files: counts not negative, one row per natural key.'),
        upstreams=['read_download_counts'])

    pypi.add(sql_task(
        'transform_dimensions', 'Collects the projects, versions, installers and Python versions of the days.',
        'project.sql', 'project_version.sql', 'installer.sql', 'python_version.sql'),
        upstreams=['check_download_counts'])

    pypi.add(BuildDays(
        'transform_download_counts', 'Builds the facts, daily project downloads and the flat data set, by days.',
        planned_days_table='pypi_data_next.planned_day', rows_column='number_of_rows',
        sql_file_names=['download_counts.sql', 'daily_project_downloads.sql', 'download_counts_data_set.sql']),
        upstreams=['check_download_counts'])

    pypi.add(sql_task(
        'publish_pypi_dim', 'Publishes the built days and members into pypi_data and pypi_dim in one transaction.',
        'publish_pypi_dim.sql'),
        upstreams=['transform_dimensions', 'transform_download_counts'])

    return pypi
