"""The cost figures of the README agree with docs/data-sources.md, which gives their sources."""

import pathlib
import re

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
TIB_IN_GIB = 1024

# The figures both texts state, each as a pattern with one number (commas allowed).
FIGURES = {
    'day_of_2025_gib': r'(?i)at about (\d+) GiB a day',
    'days': r'there are\s+about ([\d,]+)\s+days',
    'whole_range_tib': r'about ([\d,]+) TiB',
    'whole_range_usd': r'about \$([\d,]+)',
    'measured_low_gib': r'about (\d+) GiB a day \[4\]|about (\d+)–\d+ GiB for a PyPI day',
}


def section(path: str, heading: str) -> str:
    """The text under `heading` until the next heading of the same or a higher level."""
    text = (PROJECT_ROOT / path).read_text()
    level = heading.split(' ')[0]
    start = text.index(f'\n{heading}\n')
    end = re.search(rf'\n#{{1,{len(level)}}} ', text[start + 1:])
    return text[start:start + 1 + end.start()] if end else text[start:]


def figure(text: str, name: str) -> int:
    match = re.search(FIGURES[name], text)
    assert match, f'{name} not found'
    return int(next(group for group in match.groups() if group).replace(',', ''))


@pytest.fixture(scope='module')
def readme() -> str:
    return section('README.md', '### Downloading from BigQuery: first, what it costs')


@pytest.fixture(scope='module')
def docs() -> str:
    return section('docs/data-sources.md', '### What a PyPI day costs')


@pytest.mark.parametrize('name', ['day_of_2025_gib', 'days', 'whole_range_tib', 'whole_range_usd',
                                  'measured_low_gib'])
def test_the_readme_states_the_figures_of_the_docs(readme, docs, name):
    assert figure(readme, name) == figure(docs, name)


def test_the_whole_range_is_the_days_times_a_day_at_the_default_price(docs):
    days, per_day = figure(docs, 'days'), figure(docs, 'day_of_2025_gib')
    tib = days * per_day / TIB_IN_GIB
    assert (days, per_day, tib) == (3200, 100, 312.5)
    assert abs(figure(docs, 'whole_range_tib') - tib) <= 5  # "about": rounded to 10 TiB
    price = float(re.search(r'\$(\d+\.\d+) per\s+TiB', docs).group(1))
    assert price == 6.25
    assert abs(figure(docs, 'whole_range_usd') - tib * price) <= 25  # to $50


def test_the_measurements_are_others_and_have_their_sources(docs):
    sources = section('docs/data-sources.md', '## Sources')
    assert '984.76 GiB for 24 days' in docs and '1,005.35 GiB for 22 days' in docs
    assert figure(docs, 'measured_low_gib') == round(984.76 / 24)  # 41 GiB a day
    assert 'Estimated from these, not measured' in docs
    for address in ('https://github.com/hugovk/top-pypi-packages/pull/49',
                    'https://github.com/hugovk/top-pypi-packages/pull/50',
                    'https://github.com/hugovk/top-pypi-packages/issues/36',
                    'https://github.com/pypi/infra/issues/228',
                    'https://cloud.google.com/bigquery/docs/clustered-tables',
                    'https://cloud.google.com/bigquery/pricing'):
        assert address in sources
