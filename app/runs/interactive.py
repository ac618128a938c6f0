"""The terminal runner, `flask mara-pipelines run-interactively`: menus of the pipelines, drawn by `dialog`.

After a run it waits for Enter and returns to the menu it was started from; Esc (or Back) goes up one menu,
and at the root menu leaves the runner, which clears the screen. Ctrl-C during a run cancels the run.
"""

from mara_pipelines import cli as mara_cli
from mara_pipelines import config as mara_config
from mara_pipelines import pipelines

from app.runs import supervisor

RUN_ALL, RUN_SELECTED = '▶ ', '>> '
CLEAR_SCREEN = '\033[H\033[2J'


def run_interactively() -> None:
    from dialog import Dialog
    menus = Dialog(dialog='dialog', autowidgetsize=True)
    stack = [mara_config.root_pipeline()]
    try:
        while stack:
            pipeline = stack[-1]
            code, choice = menus.menu(
                text='Pipeline ' + ' / '.join(pipeline.path()) if pipeline.parent else 'Root pipeline',
                choices=[(RUN_ALL, 'Run'), (RUN_SELECTED, 'Run selected')]
                + [(child.id, '→' if isinstance(child, pipelines.Pipeline) else 'Run')
                   for child in pipeline.nodes.values()],
                cancel_label='Back' if len(stack) > 1 else 'Exit')
            if code != menus.OK:  # Cancel, or Esc
                stack.pop()
            elif choice == RUN_ALL:
                _run(pipeline)
            elif choice == RUN_SELECTED:
                code, node_ids = menus.checklist('Select the nodes to run (none: all of them).',
                                                 choices=[(node_id, '', False) for node_id in pipeline.nodes])
                if code == menus.OK:
                    _run(pipeline, {pipeline.nodes[node_id] for node_id in node_ids})
            elif isinstance(pipeline.nodes[choice], pipelines.Pipeline):
                stack.append(pipeline.nodes[choice])
            else:
                _run(pipeline, {pipeline.nodes[choice]})
    finally:
        print(CLEAR_SCREEN, end='', flush=True)


def _run(pipeline: pipelines.Pipeline, nodes: set | None = None) -> None:
    print(CLEAR_SCREEN, end='', flush=True)
    with supervisor.requested(started_by=f'terminal {supervisor.user_at_host()}'):
        succeeded = mara_cli.run_pipeline(pipeline, nodes, interactively_started=True)
    try:
        input(f'\n{"Succeeded" if succeeded else "Failed"}. Press Enter to return to the menu. ')
    except (EOFError, KeyboardInterrupt):
        pass
