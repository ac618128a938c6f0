"""The live log of a run: one JSON line per event, `{"event": <class name>, "data": {<fields>}}`.

The run's supervisor writes it while the run goes on (RUN_LOG_DIR/run-<run id>.jsonl). The web UI follows it
from any browser, at any time, also for runs started by the CLI or cron: a reader just reads on from where it
was, and a run has finished when the file holds its RunFinished.
"""

import datetime
import enum
import json
import pathlib
import threading
import typing

from app import config

FINAL_EVENT = 'RunFinished'


def path(run_id: int) -> pathlib.Path:
    return config.run_log_dir() / f'run-{run_id}.jsonl'


def _value(value):
    if isinstance(value, datetime.datetime):  # mara's Output and SystemStatistics times are local and naive
        return (value if value.tzinfo else value.astimezone()).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def event_data(event) -> dict:
    return {field: _value(value) for field, value in vars(event).items()}


def encode(event) -> str:
    return json.dumps({'event': type(event).__name__, 'data': event_data(event)})


class Writer:
    """Writes events to a run's log, from several threads; each line is flushed at once for the readers.
    A new log replaces a file of the same name (left by a run of a mara database that was dropped since)."""

    def __init__(self, file: pathlib.Path, new: bool = True):
        file.parent.mkdir(parents=True, exist_ok=True)
        self.file = file
        self._stream = file.open('w' if new else 'a', encoding='utf-8')
        self._lock = threading.Lock()

    def write(self, event) -> None:
        line = encode(event) + '\n'
        with self._lock:
            if not self._stream.closed:
                self._stream.write(line)
                self._stream.flush()

    def close(self) -> None:
        with self._lock:
            self._stream.close()


def append(file: pathlib.Path, events: list) -> None:
    """Adds events to the log of a run that is over (crash recovery)."""
    writer = Writer(file, new=False)
    for event in events:
        writer.write(event)
    writer.close()


class Entry(typing.NamedTuple):
    end: int  # the byte offset after this line: where to read on
    event: str
    data: str  # the event's fields as JSON text


def read(file: pathlib.Path, offset: int = 0) -> list[Entry]:
    """The complete lines of a run's log from `offset` on (a line that is still being written is left out)."""
    try:
        with file.open('rb') as stream:
            stream.seek(offset)
            chunk = stream.read()
    except FileNotFoundError:
        return []
    entries = []
    position = offset
    for line in chunk.splitlines(keepends=True):
        if not line.endswith(b'\n'):
            break
        position += len(line)
        record = json.loads(line)
        entries.append(Entry(position, record['event'], json.dumps(record['data'])))
    return entries
