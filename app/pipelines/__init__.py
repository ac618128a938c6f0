"""The root pipeline: every pipeline of the warehouse, wired in one place."""

import functools
import importlib
import pathlib

from mara_pipelines.pipelines import Pipeline

# (package, upstream pipeline ids), in dependency order.
PIPELINES = [
    ('utils', []),
    ('pypi', ['utils']),
    ('github', ['utils']),
    ('python_projects', ['pypi', 'github']),
]


@functools.cache
def root_pipeline() -> Pipeline:
    """Builds the root pipeline from the pipeline packages listed in PIPELINES. Built once per process: its
    nodes read the settings when a run starts (MAX_PARALLEL_TASKS through mara's config)."""
    root = Pipeline(id='example_project',
                    description='Python project activity: PyPI downloads and GitHub activity in star schemas.',
                    base_path=pathlib.Path(__file__).parent)
    for package, upstreams in PIPELINES:
        root.add(importlib.import_module(f'app.pipelines.{package}').pipeline(), upstreams=upstreams)
    return root
