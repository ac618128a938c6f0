"""Registers the project's own flask commands under their documented names."""

import importlib

import flask

# Modules that expose CLICK_COMMANDS: {flask command name: click command}.
_COMMAND_MODULES = ['app.bigquery_downloader.cli', 'app.sample_data.cli', 'app.pipelines.cli']


def register_commands(flask_app: flask.Flask) -> None:
    """Adds every command of the project's packages to the flask CLI."""
    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if not module_name.startswith(str(error.name)):
                raise
            continue
        for name, command in module.CLICK_COMMANDS.items():
            flask_app.cli.add_command(command, name=name)
