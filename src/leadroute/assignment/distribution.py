"""Who gets the i-th lead: the rotation of a job, as a small table the chunk SQL joins.

A rotation is a list of slots, each naming a user; lead number ``i`` (0-based, in id
order) goes to ``slots[i % len(slots)]``. Round robin has one slot per user in the given
order; weighted has ``sum(weights)`` slots interleaved smoothly (nginx's smooth weighted
round robin), so a 3:1 split reads a a b a a a b a ..., never a block of a's. Because the
rotation is periodic, per-user counts for any range of positions are arithmetic: no row is
read to know them.
"""

from collections import Counter
from collections.abc import Sequence

MAX_ROTATION_LENGTH = 100_000


def round_robin_rotation(users: Sequence[str]) -> list[str]:
    return list(users)


def weighted_rotation(users: Sequence[str], weights: Sequence[int]) -> list[str]:
    """Smooth weighted round robin: each user appears ``weight`` times per period, spread out."""
    current = [0] * len(users)
    total = sum(weights)
    rotation = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            current[index] += weight
        chosen = max(range(len(users)), key=lambda index: (current[index], -index))
        current[chosen] -= total
        rotation.append(users[chosen])
    return rotation


def counts_in_range(rotation: Sequence[str], start: int, count: int) -> Counter[str]:
    """How many of positions ``start .. start+count-1`` each user receives."""
    period = len(rotation)
    counts: Counter[str] = Counter()
    full_periods, remainder = divmod(count, period)
    if full_periods:
        for user, occurrences in Counter(rotation).items():
            counts[user] += occurrences * full_periods
    offset = start % period
    for step in range(remainder):
        counts[rotation[(offset + step) % period]] += 1
    return counts
