"""How each node of a run ended, the run's summary, and what "rerun the failed and not-run nodes" runs.

A run's scope is every node that it was to run, as the pipelines define them (the children of a parallel task
exist only at run time; the parallel task stands for them). Each node of the scope ended as
- succeeded,
- failed (also: started, but stopped before it finished),
- skipped (an upstream did not succeed; the nodes inside a skipped pipeline are skipped with it), or
- not run (the run ended before it got there: cancelled, crashed).

A node marked with `plans` prepares the work of its downstream nodes from what is outside the run (the files):
a rerun that runs one of its downstreams runs it, and all of its downstreams, again.
"""

import copy

from mara_pipelines import pipelines
from mara_pipelines.logging import pipeline_events

from app.runs import failure_semantics, records

SUCCEEDED, FAILED, SKIPPED, NOT_RUN = 'succeeded', 'failed', 'skipped', 'not run'
ORDER = [SUCCEEDED, FAILED, SKIPPED, NOT_RUN]


def key(path) -> str:
    """A node path as stored: 'pypi/read' ('' is the root pipeline)."""
    return '/'.join(path)


def text(path_key: str) -> str:
    return records.path_text(path_key.split('/') if path_key else [])


def _parent_keys(path_key: str) -> list[str]:
    parts = path_key.split('/') if path_key else []
    return ['/'.join(parts[:length]) for length in range(len(parts))]


def _is_below(path_key: str, parent_key: str) -> bool:
    return path_key != parent_key and (not parent_key or path_key.startswith(parent_key + '/'))


def _subtree(node: pipelines.Node) -> list[str]:
    keys = [key(node.path())]
    for child in getattr(node, 'nodes', {}).values():
        keys += _subtree(child)
    return keys


def scope(pipeline: pipelines.Pipeline, nodes=None, with_upstreams: bool = False) -> list[str]:
    """Every node that a run of `nodes` of `pipeline` (all of it when there are none) is to run, in pipeline order.
    The selection is mara's: the nodes, with all their upstreams in the pipeline when `with_upstreams`."""
    if not nodes:
        return _subtree(pipeline)
    selected = set(nodes)
    while with_upstreams and (more := {upstream for node in selected for upstream in node.upstreams} - selected):
        selected |= more
    return [path for node in pipeline.nodes.values() if node in selected for path in _subtree(node)]


class Tracker:
    """Follows the events of a run and tells how each node of its scope ended."""

    def __init__(self, run_scope: list[str]):
        self.scope = run_scope
        self.started: set[str] = set()
        self.finished: dict[str, bool] = {}
        self.skipped: set[str] = set()

    def add(self, event) -> None:
        if isinstance(event, pipeline_events.NodeStarted):
            self.started.add(key(event.node_path))
        elif isinstance(event, pipeline_events.NodeFinished):
            self.finished[key(event.node_path)] = event.succeeded
        elif isinstance(event, failure_semantics.NodeSkipped):
            self.skipped.add(key(event.node_path))

    def outcome(self, path_key: str) -> str:
        if path_key in self.finished:
            return SUCCEEDED if self.finished[path_key] else FAILED
        if path_key in self.started:
            return FAILED  # stopped while it ran
        if path_key in self.skipped or any(parent in self.skipped for parent in _parent_keys(path_key)):
            return SKIPPED
        return NOT_RUN

    def node_outcomes(self) -> dict[str, str]:
        return {path_key: self.outcome(path_key) for path_key in self.scope}

    def failed(self) -> list[str]:
        """The innermost nodes that failed, parallel tasks' children included (not the pipelines around them)."""
        failed = [path_key for path_key in sorted(self.started | set(self.finished))
                  if self.outcome(path_key) == FAILED]
        return [path_key for path_key in failed if not any(_is_below(other, path_key) for other in failed)]


def from_node_runs(run_scope: list[str], node_runs: dict) -> dict[str, str]:
    """The outcomes of a run that ended without saying so (crash), from the node runs that mara recorded."""
    return {path_key: (SUCCEEDED if node_runs[path_key] else FAILED) if path_key in node_runs else NOT_RUN
            for path_key in run_scope}


def _topmost(node_outcomes: dict, outcome: str) -> list[str]:
    return [path_key for path_key, value in node_outcomes.items()
            if value == outcome and not any(node_outcomes.get(parent) == outcome for parent in _parent_keys(path_key))]


def task_counts(node_outcomes: dict) -> dict[str, int]:
    """{outcome: how many tasks} of a run: the nodes that are no pipelines (whose outcome follows theirs)."""
    tasks = [value for path_key, value in node_outcomes.items()
             if not any(_is_below(other, path_key) for other in node_outcomes)]
    return {value: tasks.count(value) for value in ORDER}


def summary(outcome: str, reason: str | None, node_outcomes: dict, failed: list[str]) -> list[str]:
    """Lines that say how a run ended and list its succeeded, failed, skipped and not-run nodes."""
    counts = task_counts(node_outcomes)
    first = f'Run {outcome}' + (f' ({reason})' if reason else '')
    first += f': {counts[SUCCEEDED]} of {sum(counts.values())} tasks succeeded'
    first += ''.join(f', {counts[value]} {value}' for value in ORDER[1:] if counts[value]) + '.'
    listed = {SUCCEEDED: _topmost(node_outcomes, SUCCEEDED), FAILED: failed,
              SKIPPED: _topmost(node_outcomes, SKIPPED), NOT_RUN: _topmost(node_outcomes, NOT_RUN)}
    return [first] + [f'{value}: {", ".join(text(path_key) for path_key in listed[value])}'
                      for value in [FAILED, SKIPPED, NOT_RUN, SUCCEEDED] if listed[value]]


# The attribute by which a node says that it plans the work of its downstream nodes (see `plans`).
_PLANS = 'plans_its_downstreams'


def plans(node: pipelines.Node) -> pipelines.Node:
    """Marks `node` as one that plans the work of its downstream nodes from what is outside the run (the files): a
    rerun of any of them starts again from it, so that a file changed since the failed run is seen."""
    setattr(node, _PLANS, True)
    return node


def _downstreams(node: pipelines.Node) -> list[pipelines.Node]:
    """Every node downstream of `node` in its pipeline, directly or through other nodes."""
    found, todo = [], list(node.downstreams)
    while todo:
        downstream = todo.pop()
        if downstream not in found:
            found.append(downstream)
            todo.extend(downstream.downstreams)
    return found


def _with_plans(pipeline: pipelines.Pipeline, redo: set[str]) -> set[str]:
    """`redo` with each planning node below `pipeline` (and all its downstreams) whose downstreams are to be redone
    (themselves, or nodes inside them)."""
    redo = set(redo)
    for node in pipeline.nodes.values():
        if isinstance(node, pipelines.Pipeline):
            redo = _with_plans(node, redo)
        if not getattr(node, _PLANS, False):
            continue
        planned = [key(downstream.path()) for downstream in _downstreams(node)]
        if any(path_key == planned_key or _is_below(path_key, planned_key)
               for path_key in redo for planned_key in planned):
            redo |= {path_key for member in [node, *_downstreams(node)] for path_key in _subtree(member)}
    return redo


class NothingToRerun(Exception):
    pass


def rerun_pipeline(root: pipelines.Pipeline, run: dict | None) -> pipelines.Pipeline:
    """A copy of the pipeline of `run`, reduced to the nodes of its scope that did not succeed (and the pipelines
    around them): the failed, skipped and not-run nodes, and the planning nodes before them (see `plans`). After a
    crash, the run's half-built `*_next` schemas are gone (see recovery.py), so each top-level pipeline that did
    not finish starts over as a whole."""
    if run is None:
        raise NothingToRerun('there is no run yet')
    if run['node_outcomes'] is None:
        raise NothingToRerun(f"run {run['run_id']} has no record of its nodes")
    redo = {path_key for path_key, outcome in run['node_outcomes'].items() if outcome != SUCCEEDED}
    if not redo:
        raise NothingToRerun(f"all nodes of run {run['run_id']} succeeded")
    path = list(run['node_path'])
    if run['recovered_at']:
        tops = {path_key.split('/')[0] for path_key in redo if path_key}
        path = path[:1]
        redo |= {path_key for path_key in _subtree(root) if path_key and path_key.split('/')[0] in tops}
    redo = _with_plans(root, redo)
    keep = redo | {parent for path_key in redo for parent in _parent_keys(path_key)}
    target, found = _find(copy.deepcopy(root), path)
    if not found:
        raise NothingToRerun(f'{records.pipeline_text(path)} of run {run["run_id"]} no longer exists')
    _prune(target, keep)
    if not target.nodes:
        raise NothingToRerun(f"the nodes of run {run['run_id']} that did not succeed no longer exist")
    return target


def _find(node: pipelines.Node, path: list[str]) -> tuple[pipelines.Node, bool]:
    for node_id in path:
        if node_id not in getattr(node, 'nodes', {}):
            return node, False
        node = node.nodes[node_id]
    return node, True


def _prune(pipeline: pipelines.Pipeline, keep: set[str]) -> None:
    for child in list(pipeline.nodes.values()):
        if key(child.path()) not in keep:
            pipeline.remove(child)
        elif isinstance(child, pipelines.Pipeline):
            _prune(child, keep)
