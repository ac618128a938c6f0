"""Workarounds for bugs in the pinned mara packages: the only place where mara code is changed.

Each fix names the bug and the version it was seen in, and is covered by tests/test_mara_fixes.py.
Remove a fix when the pinned version no longer has the bug (the test then tells).
"""

import mara_pipelines.pipelines
from mara_pipelines.parallel_tasks import files as parallel_files

# Bug 1 (mara-pipelines 3.5.0): `Task.__init__` sets the private generator attribute only for callable
# `commands`, so `add_command(s)` on a task built from a list raises AttributeError
# ('Task' object has no attribute '_Task__dynamic_commands_generator_func'). ParallelReadFile with
# `partition_target_table_by_day_id=True` always hits it. A class-level default fixes every instance.
mara_pipelines.pipelines.Task._Task__dynamic_commands_generator_func = None


# Bug 2 (mara-pipelines 3.4.0, 3.5.0): ParallelReadFile with `file_dependencies` and without
# `commands_after` appends to `sub_pipeline.final_node.commands` while there is no final node
# (AttributeError: 'NoneType' object has no attribute 'commands'). Give it an empty final task.
_original_add_parallel_tasks = parallel_files._ParallelRead.add_parallel_tasks


def _add_parallel_tasks(self, sub_pipeline: mara_pipelines.pipelines.Pipeline) -> None:
    if self.file_dependencies and sub_pipeline.final_node is None:
        sub_pipeline.add_final(mara_pipelines.pipelines.Task(
            id='after', description='Records the hash of the file dependencies.', commands=[]))
    _original_add_parallel_tasks(self, sub_pipeline)


parallel_files._ParallelRead.add_parallel_tasks = _add_parallel_tasks
