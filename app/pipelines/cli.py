"""Flask commands for running pipelines: the original project's names as aliases of mara's."""

import click
from mara_pipelines import cli as mara_cli

CLICK_COMMANDS: dict[str, click.Command] = {}
