"""The ncurses runner (`dialog` menus), driven in a real terminal by tmux: run one node, and leave with Esc.

Each test starts its own tmux server (`tmux -L <name>`), which inherits this session's environment
(database names, DATA_DIR), so the runner works on the session's databases.
"""

import os
import pathlib
import shlex
import shutil
import subprocess
import time

import pytest

from app.pipelines import root_pipeline
from tests.servers import PROJECT_ROOT, last_run_id, wait_for

COMMANDS = {'mara': 'mara-pipelines run-interactively', 'alias': 'data_integration.ui.run_interactively'}
NODE = ('utils', 'initialize_utils')  # harmless to run again: it only replaces the util functions


class Terminal:
    """A 160x50 terminal in a private tmux server, running one command; its exit code ends up in a file."""

    def __init__(self, command: str, tmp_path: pathlib.Path):
        self.socket = f'mara-test-{os.getpid()}-{tmp_path.name}'
        self.exit_file = tmp_path / 'exit-code'
        script = f'cd {shlex.quote(str(PROJECT_ROOT))} && .venv/bin/flask --app app.app {command}; ' \
                 f'echo $? > {shlex.quote(str(self.exit_file))}; sleep 600'
        self._tmux('new-session', '-d', '-x', '160', '-y', '50', 'bash', '-c', script)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(['tmux', '-L', self.socket, *args], check=True, capture_output=True, text=True,
                              env=dict(os.environ, TERM='xterm-256color')).stdout

    def screen(self) -> str:
        """Everything the terminal showed, with its scroll-back."""
        return self._tmux('capture-pane', '-p', '-S', '-')

    def keys(self, *keys: str) -> None:
        self._tmux('send-keys', *keys)

    def wait_for_text(self, text: str, timeout: float = 30) -> None:
        wait_for(lambda: text in self.screen(), timeout, f'{text!r} on the screen')

    def exit_code(self, timeout: float = 60) -> int:
        wait_for(self.exit_file.exists, timeout, 'the command to exit')
        time.sleep(0.1)  # the file exists before `echo` has written to it
        return int(self.exit_file.read_text())

    def close(self) -> None:
        subprocess.run(['tmux', '-L', self.socket, 'kill-server'], capture_output=True)


@pytest.fixture
def terminal(databases, tmp_path):
    missing = [program for program in ('tmux', 'dialog') if not shutil.which(program)]
    assert not missing, f'{missing} not installed: run `make install-test-packages`'
    terminals = []

    def start(command: str) -> Terminal:
        terminals.append(Terminal(command, tmp_path))
        return terminals[-1]

    yield start
    for term in terminals:
        term.close()


def _menu_position(pipeline, child_id: str) -> int:
    """Down presses from the first entry of a pipeline's menu ('▶ Run', '>> Run selected', its children)."""
    return 2 + list(pipeline.nodes).index(child_id)


@pytest.fixture(scope='module')
def util_schema(app):
    result = app.test_cli_runner().invoke(args=['mara-pipelines', 'run', '--path', NODE[0], '--nodes', NODE[1]])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize('command', COMMANDS.values(), ids=COMMANDS.keys())
def test_runs_one_node_and_records_the_run(terminal, command, mara_db_query, util_schema):
    pipeline = root_pipeline().nodes[NODE[0]]
    before = last_run_id()
    term = terminal(command)
    term.wait_for_text('Root pipeline')
    term.keys(*['Down'] * _menu_position(root_pipeline(), NODE[0]), 'Enter')
    term.wait_for_text(f'Pipeline {NODE[0]}')
    term.keys(*['Down'] * _menu_position(pipeline, NODE[1]), 'Enter')
    assert term.exit_code() == 0, term.screen()
    screen = term.screen()
    assert f'{NODE[0]} / {NODE[1]}: succeeded' in screen and 'Traceback' not in screen, screen

    runs = mara_db_query('SELECT run_id, node_path, succeeded FROM data_integration_run WHERE run_id > %s',
                         (before,))
    assert [(path, succeeded) for _, path, succeeded in runs] == [([NODE[0]], True)]
    node_runs = mara_db_query('SELECT node_path, succeeded FROM data_integration_node_run WHERE run_id = %s',
                              (runs[0][0],))
    assert node_runs == [(list(NODE), True)]


@pytest.mark.parametrize('command', COMMANDS.values(), ids=COMMANDS.keys())
def test_esc_at_the_root_menu_leaves_cleanly(terminal, command):
    term = terminal(command)
    term.wait_for_text('Root pipeline')
    term.keys('Escape')
    assert term.exit_code() == 0
    assert 'Traceback' not in term.screen() and 'KeyError' not in term.screen()


def test_esc_in_a_sub_menu_leaves_cleanly_and_runs_nothing(terminal, util_schema):
    before = last_run_id()
    term = terminal(COMMANDS['mara'])
    term.wait_for_text('Root pipeline')
    term.keys(*['Down'] * _menu_position(root_pipeline(), NODE[0]), 'Enter')
    term.wait_for_text(f'Pipeline {NODE[0]}')
    term.keys('Escape')
    assert term.exit_code() == 0
    assert 'Traceback' not in term.screen()
    assert last_run_id() == before
