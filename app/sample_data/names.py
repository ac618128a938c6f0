"""Made-up GitHub user and repository names: only [A-Za-z0-9._-], so never a TAB, newline or quote."""

import functools
import pathlib
import random

from .vocabulary import COMMON_REPOSITORIES, FIRST_NAMES, LAST_NAMES

HERE = pathlib.Path(__file__).resolve().parent
_CONSONANTS = 'bcdfghjklmnprstvwxyz'
_VOWELS = 'aeiou'


@functools.lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """Frequent tokens of PyPI project names, most frequent first (see build_lists.py)."""
    return tuple((HERE / 'words.txt').read_text().split())


@functools.lru_cache(maxsize=1)
def word_cum_weights() -> list[float]:
    """Zipf-like: a few words (api, bot, app) are in many repository names."""
    total, cum = 0.0, []
    for rank in range(1, len(words()) + 1):
        total += rank ** -0.6
        cum.append(total)
    return cum


def _syllables(rng: random.Random, count: int) -> str:
    return ''.join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(count))


def user_name(rng: random.Random) -> str:
    """A GitHub handle like jsmith, maria-garcia, alex1990, xeriok18600 or CodeFox."""
    first, last, r = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.random()
    if r < 0.16:
        return first + last
    if r < 0.28:
        return f'{first}-{last}'
    if r < 0.44:
        return f'{first}{rng.randint(1, 9999)}'
    if r < 0.56:
        return first[0] + last + (str(rng.randint(1, 99)) if rng.random() < 0.4 else '')
    if r < 0.64:
        return first.capitalize() + last.capitalize()
    if r < 0.86:
        return _syllables(rng, rng.randint(2, 4)) + (str(rng.randint(1, 99999)) if rng.random() < 0.6 else '')
    word_a, word_b = rng.choice(words()), rng.choice(words())
    return f'{word_a}{word_b}' if rng.random() < 0.5 else f'{word_a}-{word_b}{rng.randint(1, 999)}'


def repository_name(rng: random.Random, picked_words: list[str], user: str) -> str:
    """A repository name from three (Zipf-weighted) words: most are new each day, some are common."""
    a, b, c = picked_words
    r = rng.random()
    if r < 0.06:
        return rng.choice(COMMON_REPOSITORIES)
    if r < 0.09:
        return f'{user}.github.io'
    if r < 0.45:
        return f'{a}-{b}'
    if r < 0.53:
        return f'{a}_{b}'
    if r < 0.61:
        return a.capitalize() + b.capitalize()
    if r < 0.83:
        return f'{a}-{b}-{c}'
    if r < 0.91:
        return f'{a}-{b}{rng.randint(1, 99)}'
    return f'{rng.choice(("py", "python-", "go-", "awesome-", "my-", "simple-"))}{a}-{b}'
