"""Builds the shipped name lists of the sample-data generator, once, from a PyPI package list.

The generator itself only reads the committed files `pypi_projects.txt` and `words.txt`; run this
again only to refresh them:

    python -m app.sample_data.build_lists PATH/TO/pypi.tsv

The input is TAB-separated with a header: name, version, month, rank_among_15000_most_downloaded, summary.
"""

import collections
import csv
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
NUMBER_OF_PROJECTS = 3000
NUMBER_OF_WORDS = 3000

# Words for made-up repository names: plain lower-case tokens of package names.
_WORD = re.compile(r'^[a-z]{3,10}$')
# Only clean release strings are kept as the newest version; others get a made-up history.
_VERSION = re.compile(r'^[0-9]+(\.[0-9]+){0,3}$')


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def read_rows(tsv: pathlib.Path) -> list[dict]:
    with tsv.open(newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE))


def best_ranked_projects(rows: list[dict]) -> list[tuple[int, str, str]]:
    """(rank, normalized name, newest version or '') of the best-ranked projects."""
    ranked = {}
    for row in rows:
        rank = row['rank_among_15000_most_downloaded'].strip()
        if rank.isdigit():
            name = normalize(row['name'])
            version = row['version'].strip() if _VERSION.match(row['version'].strip()) else ''
            if name not in ranked or int(rank) < ranked[name][0]:
                ranked[name] = (int(rank), name, version)
    return sorted(ranked.values())[:NUMBER_OF_PROJECTS]


def frequent_words(rows: list[dict]) -> list[str]:
    counts = collections.Counter(token for row in rows
                                 for token in normalize(row['name']).split('-') if _WORD.match(token))
    return [word for word, _ in counts.most_common(NUMBER_OF_WORDS)]


def main(tsv: pathlib.Path) -> None:
    rows = read_rows(tsv)
    projects = best_ranked_projects(rows)
    assert any(name == 'flask' for _, name, _ in projects), 'flask must be in the list'
    (HERE / 'pypi_projects.txt').write_text(
        ''.join(f'{rank}\t{name}\t{version}\n' for rank, name, version in projects))
    (HERE / 'words.txt').write_text(''.join(f'{word}\n' for word in frequent_words(rows)))
    print(f'{len(projects)} projects, {NUMBER_OF_WORDS} words written to {HERE}')


if __name__ == '__main__':
    main(pathlib.Path(sys.argv[1]))
