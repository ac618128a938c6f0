"""Registers the project's own flask commands under their documented names."""

import importlib

import flask

# Modules that expose CLICK_COMMANDS: {flask command name: click command}.
_COMMAND_MODULES = ['app.bigquery_downloader.cli', 'app.sample_data.cli', 'app.pipelines.cli', 'app.access']


def register_commands(flask_app: flask.Flask) -> None:
    """Adds every command of the project's packages to the flask CLI."""
    for module_name in _COMMAND_MODULES:
        for name, command in importlib.import_module(module_name).CLICK_COMMANDS.items():
            flask_app.cli.add_command(command, name=name)
