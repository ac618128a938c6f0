"""Times the sample-data generator on about 1M rows and writes the result to docs/benchmarks/sample_data.md.

    .venv/bin/python .scripts/benchmark_sample_data.py [--days 2] [--pypi-rows 250000] [--github-rows 250000]
"""

import argparse
import datetime
import os
import pathlib
import platform
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.sample_data import generator  # noqa: E402 (needs the sys.path entry above)

REPORT = ROOT / 'docs' / 'benchmarks' / 'sample_data.md'


def cpu_model() -> str:
    for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.processor() or 'unknown'


def run(days: int, pypi_rows: int, github_rows: int, workers: int | None) -> tuple:
    """(summary, gzipped bytes) of one run; it includes building the catalog, as a fresh CLI call does."""
    generator.catalog.cache_clear()
    with tempfile.TemporaryDirectory() as directory:
        summary = generator.generate(pathlib.Path(directory), datetime.date(2018, 4, 9), days, pypi_rows,
                                     github_rows, generator.DEFAULT_SEED, workers=workers)
        sizes = sum(result.path.stat().st_size for result in summary.files)
    print(f'{summary.rows} rows in {summary.seconds:.1f} s ({sizes / 1e6:.1f} MB gzipped)')
    return summary, sizes


def report(args, parallel, serial, load: tuple[float, ...]) -> str:
    (summary, sizes), (serial_summary, _) = parallel, serial
    rows = summary.rows
    per_file = '\n'.join(f'| {result.day} | {result.kind} | {result.rows} | {result.seconds:.2f} |'
                         for result in summary.files)
    return f"""# Sample-data generator benchmark

Measured by `.venv/bin/python .scripts/benchmark_sample_data.py --days {args.days} \
--pypi-rows {args.pypi_rows} --github-rows {args.github_rows}` on {datetime.date.today()}.

| | |
| --- | --- |
| machine | {os.cpu_count()} cores (nproc), {cpu_model()}, Python {platform.python_version()} |
| load average before the run | {' / '.join(f'{value:.2f}' for value in load)} (the machine is shared) |
| volume | {args.days} days x ({args.pypi_rows} PyPI + {args.github_rows} GitHub rows) = {rows} rows, \
{len(summary.files)} files, {sizes / 1e6:.1f} MB gzipped (level {generator.COMPRESS_LEVEL}) |
| wall time, one process per core | **{summary.seconds:.1f} s** ({rows / summary.seconds:,.0f} rows/s) |
| wall time, one process | {serial_summary.seconds:.1f} s ({rows / serial_summary.seconds:,.0f} rows/s) |
| target | about 1M rows in under 60 s |

Seconds per file (one process per core; each includes drawing the rows, formatting, gzip and the atomic write;
the wall time also includes building the catalog of projects, releases and users once):

| day | file | rows | seconds |
| --- | --- | --- | --- |
{per_file}

The flag `--benchmark-volume` of `flask sample-data generate` means {generator.BENCHMARK_PYPI_ROWS} PyPI and \
{generator.BENCHMARK_GITHUB_ROWS} GitHub rows per day.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--days', type=int, default=2)
    parser.add_argument('--pypi-rows', type=int, default=250_000)
    parser.add_argument('--github-rows', type=int, default=250_000)
    args = parser.parse_args()
    load = os.getloadavg()
    parallel = run(args.days, args.pypi_rows, args.github_rows, None)
    serial = run(args.days, args.pypi_rows, args.github_rows, 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report(args, parallel, serial, load))
    print(f'written to {REPORT.relative_to(ROOT)}')


if __name__ == '__main__':
    main()
