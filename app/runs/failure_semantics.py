"""What a failed node stops: its downstream nodes, and nothing else.

mara-pipelines 3.5.0 marks every pipeline around a failed task as failed, up to the root, and then launches no
node below a failed pipeline: one failed task stops the whole run, and pipelines whose remaining nodes were
silently dropped report "succeeded". Here, when a node fails,
- every node downstream of it (directly or through other nodes, also in other pipelines) is skipped, with an
  Output that says why and a `NodeSkipped` event;
- nodes that do not depend on it still run and finish;
- every pipeline that contains a failed or skipped node is reported failed, and so is the run.
mara's options keep their meaning: a failed task of a pipeline with `ignore_errors` fails nothing, and the
children of a pipeline with `force_run_all_children` run although their upstreams failed.

The change sits where mara decides which node to launch next, inside `execution.run_pipeline`, which no hook
reaches: that function is compiled again with five small replacements (`app.mara_fixes.recompiled`).
"""

import mara_pipelines.execution
from mara_pipelines import pipelines
from mara_pipelines.logging import logger, pipeline_events

from app.mara_fixes import recompiled
from app.runs import records


class NodeSkipped(pipeline_events.PipelineEvent):
    def __init__(self, node_path: list[str], because: list[list[str]]) -> None:
        """A node was not run, because the upstreams at the paths `because` failed or were skipped."""
        super().__init__(node_path)
        self.because = because


def failed(node: pipelines.Node, failed_nodes: set, failed_pipelines: set) -> None:
    """Records that a node failed (or was skipped): its downstreams are skipped, the pipelines around it fail."""
    failed_nodes.add(node)
    failed_pipelines.update(node.parents()[:-1])


def skip(node: pipelines.Node, failed_nodes: set, failed_pipelines: set, event_queue) -> bool:
    """Whether a node whose upstreams are done is skipped instead of launched; records and announces the skip."""
    if node.parent is not None and node.parent.force_run_all_children:
        return False
    blocking = [upstream for upstream in node.upstreams if upstream in failed_nodes or upstream in failed_pipelines]
    if not blocking:
        return False
    if node.parent is not None and node.parent.ignore_errors:
        failed_nodes.add(node)
    else:
        failed(node, failed_nodes, failed_pipelines)
    paths = sorted(upstream.path() for upstream in blocking
                   if not any(other in blocking for other in upstream.parents()[:-1]))  # not the inner ones
    event_queue.put(NodeSkipped(node.path(), paths))
    event_queue.put(pipeline_events.Output(
        node_path=node.path(), format=logger.Format.ITALICS, is_error=True,
        message=f'skipped, because {", ".join(" / ".join(path) for path in paths)} did not succeed'))
    return True


def executor_lost_the_database(path: list[str], error: Exception) -> pipeline_events.Output:
    """The executor's own queries (the expected durations of a pipeline's nodes) lost the mara database: one line
    instead of a traceback; the supervisor stops the run and the next run records it."""
    return pipeline_events.Output(node_path=path, format=logger.Format.ITALICS, is_error=True,
                                  message=f'lost the connection to the mara database: {records.first_line(error)}')


_REPLACEMENTS = [
    (  # the nodes that failed or were skipped, besides the pipelines that failed
        '''            failed_pipelines: Set[pipelines.Pipeline] = set()  # pipelines with failed tasks
''',
        '''            failed_pipelines: Set[pipelines.Pipeline] = set()  # pipelines with failed tasks
            failed_nodes: Set[pipelines.Node] = set()  # nodes that failed or were skipped
'''),
    (  # a due node is skipped when one of its upstreams did not succeed, not when any node of its pipeline failed
        '''                        processed_as_parent_failed = False
                        parent = node.parent
                        while parent:
                            # if the parent pipeline failed (and no overwrite), don't launch new nodes
                            # this needs to go down to the ultimate parent as we can have cases where we already
                            # queued a subpipeline and now the parent pipeline failed but the tasks parent pipeline
                            # (the sub pipeline) is not failed.
                            # If a task from a parent pipeline fails, even with force_run_all_children on the
                            # sub pipeline, the sub pipeline would stop. Only if the failed parent pipeline also has
                            # force_run_all_children, the task would get scheduled
                            if parent in failed_pipelines and not parent.force_run_all_children:
                                processed_nodes.add(node)
                                processed_as_parent_failed = True
                                break
                            else: parent = parent.parent
                        if not processed_as_parent_failed:
                            return node
''',
        '''                        if _failure_semantics.skip(node, failed_nodes, failed_pipelines, event_queue):
                            processed_nodes.add(node)
                        else:
                            return node
'''),
    (  # parallel tasks that could not be launched fail every pipeline around them, not only their parent
        '''                                failed_pipelines.add(next_node.parent)
                                processed_nodes.add(next_node)
''',
        '''                                _failure_semantics.failed(next_node, failed_nodes, failed_pipelines)
                                processed_nodes.add(next_node)
'''),
    (  # a failed task is remembered, so that its downstreams are skipped
        '''                            for parent in task_process.task.parents()[:-1]:
                                failed_pipelines.add(parent)
''',
        '''                            _failure_semantics.failed(task_process.task, failed_nodes, failed_pipelines)
'''),
    (  # the executor losing the mara database is told in a line, not with a traceback
        '''        except:
            event_queue.put(pipeline_events.Output(node_path=pipeline.path(), message=traceback.format_exc(),
''',
        '''        except _failure_semantics.records.DATABASE_LOST as error:
            event_queue.put(_failure_semantics.executor_lost_the_database(pipeline.path(), error))
        except:
            event_queue.put(pipeline_events.Output(node_path=pipeline.path(), message=traceback.format_exc(),
'''),
]


def run_pipeline_with_failure_semantics():
    """mara's `execution.run_pipeline` (as it is now), changed to these failure semantics."""
    import sys
    mara_pipelines.execution._failure_semantics = sys.modules[__name__]  # the name that the replacements use
    return recompiled(mara_pipelines.execution.run_pipeline, _REPLACEMENTS, why='skipping only downstream nodes')
