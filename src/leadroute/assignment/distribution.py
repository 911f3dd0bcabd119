"""Who gets the i-th lead of a job: a plan of phases, each a small rotation.

Lead number ``i`` (0-based, in id order) falls in the phase whose range holds ``i`` and goes
to ``rotation[(i - start) % len(rotation)]`` of that phase. Most jobs have one open-ended
phase: round robin has one slot per user in the given order; weighted has ``sum(weights)``
slots interleaved smoothly (nginx's smooth weighted round robin), so a 3:1 split reads
a a b a a a b a ..., never a block of a's. Capacities (``max_per_user``) and ``balanced`` add
phases: a user leaves the rotation when full, and balanced lets the users who own fewest
leads catch up one level at a time. Every phase is periodic, so per-user counts for any
range of positions are arithmetic, and a chunk joins a table of at most ``sum(weights)``
rows per phase: nothing per lead is computed in Python.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_ROTATION_LENGTH = 100_000
MAX_PLAN_SLOTS = 200_000


@dataclass(frozen=True)
class Phase:
    start: int
    # None: the phase runs to the end of the job.
    length: int | None
    rotation: list[str]

    @property
    def end(self) -> int | None:
        return None if self.length is None else self.start + self.length


class PlanTooLarge(ValueError):
    pass


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


def plan_rotation(
    users: Sequence[str], weights: Sequence[int], capacity: int | None
) -> list[Phase]:
    """Round robin (all weights 1) or weighted, each user taking at most ``capacity`` leads.

    When the most-loaded users fill up, the others go on in the same proportions; when every
    user is full the plan ends, and the leads left over stay as they are.
    """
    if capacity is None:
        return [Phase(0, None, weighted_rotation(users, weights))]
    phases: list[Phase] = []
    remaining = dict.fromkeys(users, capacity)
    active = [(user, weight) for user, weight in zip(users, weights, strict=True)]
    position = 0
    while active and capacity > 0:
        rotation = weighted_rotation([u for u, _ in active], [w for _, w in active])
        full_periods = min(remaining[user] // weight for user, weight in active)
        if full_periods:
            phases.append(Phase(position, full_periods * len(rotation), rotation))
            position += full_periods * len(rotation)
            for user, weight in active:
                remaining[user] -= weight * full_periods
        # One more pass of the rotation, until the first user fills up mid-period.
        partial: list[str] = []
        for user in rotation:
            if remaining[user] == 0:
                break
            partial.append(user)
            remaining[user] -= 1
        if partial:
            phases.append(Phase(position, len(partial), partial))
            position += len(partial)
        active = [(user, weight) for user, weight in active if remaining[user] > 0]
        _check_size(phases)
    return phases


def plan_balanced(
    users: Sequence[str],
    owned_elsewhere: Mapping[str, int],
    total: int,
    capacity: int | None,
) -> list[Phase]:
    """Give the next leads to whoever owns fewest, so owned counts end as equal as possible.

    ``owned_elsewhere`` is what each user owns outside the leads taking part. The users at the
    lowest level share leads round robin (in the given order) until they reach the next
    user's level, who then joins them; a user at capacity drops out. ``total`` is how many
    leads take part when the job is accepted; the last phase is open-ended, so leads that
    join the selection later are still shared evenly.
    """
    level = {user: owned_elsewhere.get(user, 0) for user in users}
    taken = dict.fromkeys(users, 0)
    phases: list[Phase] = []
    position = 0

    def has_room(user: str) -> bool:
        return capacity is None or taken[user] < capacity

    while position < total:
        candidates = [user for user in users if has_room(user)]
        if not candidates:
            return phases
        lowest = min(level[user] for user in candidates)
        sharing = [user for user in candidates if level[user] == lowest]
        higher = [level[user] for user in candidates if level[user] > lowest]
        rounds = (min(higher) - lowest) if higher else None
        if capacity is not None:
            room = min(capacity - taken[user] for user in sharing)
            rounds = room if rounds is None else min(rounds, room)
        if rounds is None:
            break  # everyone level and no capacity: the open-ended phase below
        rounds = min(rounds, -(-(total - position) // len(sharing)))
        phases.append(Phase(position, rounds * len(sharing), list(sharing)))
        position += rounds * len(sharing)
        for user in sharing:
            level[user] += rounds
            taken[user] += rounds
        _check_size(phases)
    # Past the planned total (leads that joined the selection later), keep sharing evenly.
    rest = [user for user in users if has_room(user)]
    if capacity is None:
        if rest:
            phases.append(Phase(position, None, rest))
        return phases
    return phases + _capped_tail(rest, taken, capacity, position)


def _capped_tail(
    users: Sequence[str], taken: Mapping[str, int], capacity: int, start: int
) -> list[Phase]:
    left = {user: capacity - taken[user] for user in users}
    tail = []
    position = start
    active = [user for user in users if left[user] > 0]
    while active:
        rounds = min(left[user] for user in active)
        tail.append(Phase(position, rounds * len(active), list(active)))
        position += rounds * len(active)
        for user in active:
            left[user] -= rounds
        active = [user for user in active if left[user] > 0]
    return tail


def _check_size(phases: Sequence[Phase]) -> None:
    if sum(len(phase.rotation) for phase in phases) > MAX_PLAN_SLOTS:
        raise PlanTooLarge(f"the assignment plan needs more than {MAX_PLAN_SLOTS} slots")


def counts_in_range(rotation: Sequence[str], start: int, count: int) -> Counter[str]:
    """How many of positions ``start .. start+count-1`` of a periodic rotation each user gets."""
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
