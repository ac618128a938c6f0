"""The terminal runner (`dialog` menus), driven in a real terminal by tmux: run a node and come back to the menu,
Esc walks back one menu at a time and leaves a clean screen.

The runner shows the test app's pipelines (tests/support/run_control_app.py). Each test starts its own tmux server
(`tmux -L <name>`), which inherits this session's environment (database names, RUN_CONTROL_DIR).
"""

import os
import pathlib
import shlex
import shutil
import subprocess
import time

import pytest

from tests.support import PROJECT_ROOT, run_control
from tests.support.run_control import last_run_id, node_runs, record
from tests.support.servers import wait_for

COMMANDS = {'mara': 'mara-pipelines run-interactively', 'alias': 'data_integration.ui.run_interactively'}
PIPELINES = ['slow', 'flaky', 'report']  # the root menu's entries after '▶ Run' and '>> Run selected'
FLAKY = ['first', 'breaks', 'blocked', 'independent']
BOX = '┌'  # dialog draws its boxes with these


class Terminal:
    """A 160x50 terminal in a private tmux server, running one command; its exit code ends up in a file."""

    def __init__(self, command: str, tmp_path: pathlib.Path, env: dict):
        self.socket = f'mara-test-{os.getpid()}-{tmp_path.name}'
        self.exit_file = tmp_path / 'exit-code'
        script = f'cd {shlex.quote(str(PROJECT_ROOT))} && .venv/bin/flask --app {run_control.APP} {command}; ' \
                 f'echo $? > {shlex.quote(str(self.exit_file))}; sleep 600'
        self.env = dict(env, TERM='xterm-256color')
        self._tmux('new-session', '-d', '-x', '160', '-y', '50', 'bash', '-c', script)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(['tmux', '-L', self.socket, *args], check=True, capture_output=True, text=True,
                              env=self.env).stdout

    def screen(self) -> str:
        """What the terminal shows now."""
        return self._tmux('capture-pane', '-p')

    def history(self) -> str:
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
    assert not missing, f'{missing} not installed: `make test` installs them'
    control = run_control.RunControl(tmp_path)
    terminals = []

    def start(command: str) -> Terminal:
        terminals.append(Terminal(command, tmp_path, control.env))
        return terminals[-1]

    yield start
    for term in terminals:
        term.close()


def _down(position: int) -> list[str]:
    """Down presses from the first entry of a menu ('▶ Run', '>> Run selected', then the nodes)."""
    return ['Down'] * (2 + position)


@pytest.mark.parametrize('command', COMMANDS.values(), ids=COMMANDS.keys())
def test_a_run_returns_to_the_menu_it_was_started_from(terminal, command):
    before = last_run_id()
    term = terminal(command)
    term.wait_for_text('Root pipeline')
    term.keys(*_down(PIPELINES.index('flaky')), 'Enter')
    term.wait_for_text('Pipeline flaky')
    term.keys(*_down(FLAKY.index('independent')), 'Enter')
    term.wait_for_text('Succeeded. Press Enter to return to the menu.')
    history = term.history()
    assert 'flaky / independent: succeeded' in history and 'Run succeeded: 1 of 1 tasks succeeded.' in history
    assert 'Traceback' not in history
    run_id = last_run_id()
    assert run_id == before + 1 and node_runs(run_id) == {'flaky/independent': True}
    assert record(run_id)['started_by'].startswith('terminal ')

    term.keys('Enter')
    term.wait_for_text('Pipeline flaky')  # back where it was started
    term.keys(*_down(FLAKY.index('first')), 'Enter')  # and another run from there
    term.wait_for_text('Succeeded. Press Enter to return to the menu.')
    term.keys('Enter')
    term.wait_for_text('Pipeline flaky')
    assert node_runs(last_run_id()) == {'flaky/first': True}


def test_esc_walks_back_one_menu_at_a_time_and_leaves_a_clean_screen(terminal):
    before = last_run_id()
    term = terminal(COMMANDS['mara'])
    term.wait_for_text('Root pipeline')
    term.keys(*_down(PIPELINES.index('flaky')), 'Enter')
    term.wait_for_text('Pipeline flaky')
    term.keys('Escape')
    term.wait_for_text('Root pipeline')  # one level up, not out
    assert 'Pipeline flaky' not in term.screen()
    term.keys('Escape')
    assert term.exit_code() == 0
    screen = term.screen()
    assert BOX not in screen and 'Root pipeline' not in screen, screen  # nothing of the dialogs is left
    assert 'Traceback' not in term.history() and 'KeyError' not in term.history()
    assert last_run_id() == before


def test_a_failed_run_also_returns_to_the_menu(terminal, tmp_path):
    (tmp_path / 'broken').touch()
    term = terminal(COMMANDS['mara'])
    term.wait_for_text('Root pipeline')
    term.keys(*_down(PIPELINES.index('flaky')), 'Enter')
    term.wait_for_text('Pipeline flaky')
    term.keys('Enter')  # '▶ Run': the whole pipeline
    term.wait_for_text('Failed. Press Enter to return to the menu.')
    assert 'flaky / blocked: skipped, because flaky / breaks did not succeed' in term.history()
    term.keys('Enter')
    term.wait_for_text('Pipeline flaky')
    term.keys('Escape')
    term.wait_for_text('Root pipeline')
    term.keys('Escape')
    assert term.exit_code() == 0
