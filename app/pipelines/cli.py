"""Flask commands for running pipelines: the original project's names as aliases of mara's.

The original project ran `flask data_integration.ui.run` and `flask data_integration.ui.run_interactively`
(mara's `data-integration` package, renamed to `mara-pipelines`). mara-pipelines 3.5.0 calls them
`flask mara-pipelines run` and `flask mara-pipelines run-interactively`; both names work here.
"""

import click
from mara_pipelines import cli as mara_cli


def _alias(command: click.Command, mara_name: str) -> click.Command:
    """A command with the options of `command` that runs it; resolved at call time, so fixes apply."""
    def callback(**params):
        return click.get_current_context().invoke(command, **params)

    return click.Command(name=command.name, params=list(command.params), callback=callback,
                         help=f'{command.help} (the original name of `flask mara-pipelines {mara_name}`)',
                         short_help=f'Alias of `flask mara-pipelines {mara_name}`')


CLICK_COMMANDS: dict[str, click.Command] = {
    'data_integration.ui.run': _alias(mara_cli.run, 'run'),
    'data_integration.ui.run_interactively': _alias(mara_cli.run_interactively, 'run-interactively'),
    'data_integration.ui.reset_incremental_processing': _alias(mara_cli.reset_incremental_processing,
                                                               'reset-incremental-processing'),
}
