"""Offline evaluation of a world: the oracle, uniform random, the baseline and the best single
action that ignores context, all on the same visits. No app involved: this says whether a world
has signal (oracle well above random) and how much of it needs context."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from simulator.world import SimVisit, World


@dataclass(frozen=True)
class WorldValues:
    visits: int
    oracle: float
    random: float
    baseline: float
    best_fixed: float  # the best single action that every visit may be shown, shown to all

    def as_dict(self) -> dict[str, float]:
        return {
            "visits": self.visits,
            "oracle": round(self.oracle, 4),
            "random": round(self.random, 4),
            "baseline": round(self.baseline, 4),
            "bestFixed": round(self.best_fixed, 4),
        }


def visits(world: World, visitors: int, sessions: int) -> Iterator[SimVisit]:
    """Every step of every visitor, in arrival order (the order the direct driver uses)."""
    for visitor in range(visitors):
        for step in range(world.steps_per_visitor(sessions)):
            yield world.visit_at(visitor, step, sessions)


def evaluate(world: World, visitors: int, sessions: int = 1) -> WorldValues:
    oracle = random = baseline = 0.0
    per_action: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    n = 0
    for visit in visits(world, visitors, sessions):
        n += 1
        oracle += world.oracle(visit)[1]
        random += world.random_value(visit)
        baseline += world.baseline_value(visit)
        for action in world.actions(visit):
            totals = per_action[action]
            totals[0] += world.expected_reward(visit, action)
            totals[1] += 1
    # actions some segments may not be shown cannot be everyone's fixed choice
    everyone = [total / count for total, count in per_action.values() if count == n]
    best_fixed = max(everyone, default=0.0)
    return WorldValues(n, oracle / n, random / n, baseline / n, best_fixed)
