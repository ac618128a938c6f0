"""Run control: a pipeline run is a thing of its own, whoever starts it (web UI, CLI, cron, the terminal runner).

- `supervisor`: every run goes through it (it replaces mara's `execution.run_pipeline`; a process without a mara
  database, as mara's own tests, gets mara's execution as it is);
- `lock`: one run at a time, and which run holds the lock;
- `records`: the project's record of each run beside mara's run log (`app_run`);
- `failure_semantics`: a failed node skips its downstream nodes only; independent nodes still run;
- `outcomes`: succeeded, failed, skipped and not-run nodes, the summary, and what a rerun runs;
- `processes`: each process of a run in its own session, taken down with its parent, stopped cleanly;
- `event_log`: the live log of a run, which any browser can follow;
- `recovery`: closing runs whose process died, and dropping their leftover `*_next` schemas;
- `background`: starting a run in a process of its own (the web UI);
- `cli`: the run command's flags, and the terminal runner (`interactive`).
"""

from app.runs import records  # noqa: F401  (its table is migrated by `flask mara-db migrate`)


def install() -> None:
    """Puts run control between mara and every run; called once, from app/__init__.py."""
    from app.runs import cli, supervisor
    supervisor.install()
    cli.install()
