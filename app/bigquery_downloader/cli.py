"""Flask commands of the downloader; the app registers CLICK_COMMANDS under their names."""

import click

from app.bigquery_downloader.client import DownloaderError
from app.bigquery_downloader.data_sets import QUERIES
from app.bigquery_downloader.downloader import download_data

_DATE = click.DateTime(formats=['%Y-%m-%d'])


def _download_command(name: str) -> click.Command:
    @click.command(name)
    @click.option('--data-set', type=click.Choice(list(QUERIES)), default=None,
                  help='Download only this data set (default: all).')
    @click.option('--first-date', type=_DATE, default=None, help='First day, YYYY-MM-DD (default: FIRST_DATE).')
    @click.option('--last-date', type=_DATE, default=None,
                  help='Last day, YYYY-MM-DD (default: LAST_DATE, or yesterday).')
    @click.option('--dry-run', is_flag=True, help='Only print what the download would cost (dry runs are free).')
    @click.option('--budget-tib', type=click.FloatRange(min=0), default=None,
                  help='Refuse when the dry runs add up to more TiB than this (default: BIGQUERY_BUDGET_TIB).')
    def download(data_set, first_date, last_date, dry_run, budget_tib):
        """Downloads the per-day PyPI and GitHub files from BigQuery that are missing or may be outdated."""
        try:
            download_data([data_set] if data_set else None,
                          first_date.date() if first_date else None,
                          last_date.date() if last_date else None,
                          dry_run=dry_run, budget_tib=budget_tib)
        except DownloaderError as e:
            raise click.ClickException(str(e)) from None
    return download


@click.group('bigquery-downloader')
def bigquery_downloader():
    """Incremental download of the PyPI and GitHub data sets from BigQuery."""


bigquery_downloader.add_command(_download_command('download'))

CLICK_COMMANDS: dict[str, click.Command] = {
    'bigquery_downloader.download_data': _download_command('bigquery_downloader.download_data'),
    'bigquery-downloader': bigquery_downloader,
}
