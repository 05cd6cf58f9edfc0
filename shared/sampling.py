"""Choosing an action from a probability vector, reproducibly: the draw is seeded by the event id,
so replaying the same request (same id, same model) replays the same choice."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence


def new_id() -> str:
    """A fresh random id, 32 hex digits like uuid4().hex, at a ninth of its cost (rank makes one
    per request)."""
    return os.urandom(16).hex()


def seeded_uniform(event_id: str) -> float:
    """A uniform number in [0, 1) derived from the event id alone."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sample_index(probabilities: Sequence[float], event_id: str) -> int:
    draw = seeded_uniform(event_id) * sum(probabilities)
    total = 0.0
    for index, p in enumerate(probabilities):
        total += p
        if draw < total:
            return index
    return max(range(len(probabilities)), key=lambda i: probabilities[i])  # rounding at the end


def epsilon_greedy(scores: Sequence[float], epsilon: float) -> list[float]:
    """(1 - epsilon) on the best entry (first wins ties), epsilon spread evenly over all."""
    count = len(scores)
    best = max(range(count), key=lambda i: scores[i])
    spread = epsilon / count
    return [spread + (1.0 - epsilon if i == best else 0.0) for i in range(count)]


# Off-policy evaluation needs every logged action's probability above zero: an estimate of another
# policy weighs each logged decision by q / p. Synthcover (the default) ends with probability 0
# on every non-greedy action, so rank mixes in the least uniform exploration that lifts each of K
# actions to FLOOR_MASS / K. With 2%: importance weights stay below 50 K (350 for 7 actions,
# 2,500 for 50), and at most 2% of traffic is spent on it. On Tom/Anna a 5% floor cost synthcover
# 7 points of CTR (0.968 -> 0.897), 2% about 3 (-> 0.940); docs/benchmarks.md, "Learning
# policies in-process".
FLOOR_MASS = 0.02


def with_floor(probabilities: list[float], mass: float = FLOOR_MASS) -> list[float]:
    """`probabilities` (summing to 1) mixed with the uniform distribution just enough that each
    entry is at least `mass / K`; unchanged when they already are."""
    count = len(probabilities)
    floor = mass / count
    low = min(probabilities)
    if low >= floor or count < 2:
        return probabilities
    share = (floor - low) / (1.0 / count - low)  # (1 - share) low + share / K = floor
    return [(1.0 - share) * p + share / count for p in probabilities]
