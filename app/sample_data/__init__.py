"""Deterministic, realistic sample data: the per-day PyPI and GitHub files that the BigQuery downloader
would write, for offline use and tests. See `generate` and the `flask sample-data generate` command."""

from .generator import FileResult, GenerationSummary, file_path, generate

__all__ = ['FileResult', 'GenerationSummary', 'file_path', 'generate']
