"""`flask sample-data generate`: writes sample PyPI and GitHub files into the data directory."""

import datetime
import pathlib

import click

from .. import config
from . import generator


@click.group('sample-data')
def sample_data_group():
    """Realistic made-up PyPI and GitHub files, for working without BigQuery."""


def _print_file(result: generator.FileResult) -> None:
    if result.skipped:
        click.echo(f'skipped {result.path} (exists; --overwrite replaces it)')
    else:
        click.echo(f'wrote {result.path}: {result.rows} rows in {result.seconds:.1f} s')


@sample_data_group.command('generate')
@click.option('--days', type=click.IntRange(min=1), default=generator.DEFAULT_DAYS, show_default=True,
              help='Number of days.')
@click.option('--start-date', type=click.DateTime(formats=['%Y-%m-%d']),
              default=generator.DEFAULT_FIRST_DAY.isoformat(), show_default=True, help='First day.')
@click.option('--pypi-rows', type=click.IntRange(min=generator.MIN_ROWS), default=None,
              help=f'PyPI rows per day [default: {generator.DEFAULT_PYPI_ROWS}].')
@click.option('--github-rows', type=click.IntRange(min=generator.MIN_ROWS), default=None,
              help=f'GitHub rows per day [default: {generator.DEFAULT_GITHUB_ROWS}].')
@click.option('--benchmark-volume', is_flag=True,
              help=f'{generator.BENCHMARK_PYPI_ROWS} PyPI and {generator.BENCHMARK_GITHUB_ROWS} GitHub rows '
                   'per day (the warehouse benchmark); explicit --pypi-rows/--github-rows win.')
@click.option('--seed', type=int, default=generator.DEFAULT_SEED, show_default=True,
              help='Same seed and options give byte-identical files.')
@click.option('--overwrite', is_flag=True, help='Replace existing files (default: keep them).')
@click.option('--data-dir', type=click.Path(file_okay=False, path_type=pathlib.Path), default=None,
              help='Target directory [default: DATA_DIR of the config].')
def generate(days: int, start_date: datetime.datetime, pypi_rows: int | None, github_rows: int | None,
             benchmark_volume: bool, seed: int, overwrite: bool, data_dir: pathlib.Path | None):
    """Writes DATA_DIR/YYYY/MM/DD/pypi/downloads-v1.csv.gz and .../github/repo-activity-v1.csv.gz per day."""
    if pypi_rows is None:
        pypi_rows = generator.BENCHMARK_PYPI_ROWS if benchmark_volume else generator.DEFAULT_PYPI_ROWS
    if github_rows is None:
        github_rows = generator.BENCHMARK_GITHUB_ROWS if benchmark_volume else generator.DEFAULT_GITHUB_ROWS
    summary = generator.generate(data_dir or config.data_dir(), start_date.date(), days, pypi_rows,
                                 github_rows, seed, overwrite=overwrite, on_file=_print_file)
    click.echo(f'{days} days from {start_date.date()}: {summary.written} files written '
               f'({summary.rows} rows), {summary.skipped} skipped, in {summary.seconds:.1f} s')


CLICK_COMMANDS: dict[str, click.Command] = {'sample-data': sample_data_group}
