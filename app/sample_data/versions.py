"""Made-up but realistic release histories (1.0.2, 0.12, 2.3.0rc1, 1.4.post1) of PyPI projects."""

import random

PRE_RELEASES = ('rc1', 'rc1', 'rc2', 'b1', 'b2', 'a1')
# Flask's real releases up to the README's day (2018-04-10): its example rows name them.
FLASK_2018_RELEASES = (
    '0.1', '0.2', '0.3', '0.3.1', '0.4', '0.5', '0.5.1', '0.5.2', '0.6', '0.6.1', '0.7', '0.7.1', '0.7.2',
    '0.8', '0.8.1', '0.9', '0.10', '0.10.1', '0.11', '0.11.1', '0.12', '0.12.1', '0.12.2',
)


def _made_up_latest(rng: random.Random) -> str:
    parts = [rng.choice((0, 0, 1, 1, 1, 2, 3, 4)), rng.randint(0, 20), rng.randint(0, 9)]
    return '.'.join(map(str, parts[:rng.choice((2, 3, 3, 3))]))


def _previous(parts: list[int], patches_per_minor: float, rng: random.Random) -> list[int] | None:
    """The release before `parts`: one step down at the last level, or a random tail one level up."""
    parts = parts[:]
    for level in range(len(parts) - 1, -1, -1):
        if parts[level] > 0:
            parts[level] -= 1
            for lower in range(level + 1, len(parts)):
                parts[lower] = min(60, int(rng.expovariate(1 / patches_per_minor)))
            return parts if any(parts) else None
    return None


def release_history(latest: str, count: int, rng: random.Random) -> list[str]:
    """`count` (or fewer, when numbers run out) releases, oldest first, ending with `latest`."""
    latest = latest or _made_up_latest(rng)
    parts = [int(part) for part in latest.split('.')]
    patches_per_minor = rng.lognormvariate(1.2, 0.8)
    newest_first = [latest]
    while len(newest_first) < count:
        parts = _previous(parts, patches_per_minor, rng)
        if parts is None:
            break
        release = '.'.join(map(str, parts))
        if rng.random() < 0.02:
            newest_first.append(release + '.post1')
        newest_first.append(release)
        if parts[-1] == 0 and len(parts) >= 3 and rng.random() < 0.2:
            newest_first.append(release + rng.choice(PRE_RELEASES))
    return newest_first[:count][::-1]


def is_pre_release(version: str) -> bool:
    return not version.replace('.', '').replace('post', '').isdigit()


def download_weights(versions: list[str], rng: random.Random) -> list[float]:
    """Recent releases get most downloads; some old ones stay popular (pinned); pre-releases few."""
    weights = []
    for age, version in enumerate(reversed(versions)):
        weight = (1 + age) ** -1.2 * rng.lognormvariate(0, 0.8)
        weights.append(weight * 0.02 if is_pre_release(version) else weight)
    return weights[::-1]
