"""The scenarios a run can name, and the one place worlds are built from a name and a seed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from simulator.world import World


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[int, int], World]  # (seed, drift_at) -> world
    default_drift_at: int = 0


def _tomanna(preferences: int) -> Callable[[int, int], World]:
    def build(seed: int, drift_at: int) -> World:
        from simulator.tomanna import TomAnnaWorld

        return TomAnnaWorld(seed, drift_at, preferences)

    return build


def _retail(seed: int, drift_at: int) -> World:
    from simulator.retail import RetailWorld

    return RetailWorld(seed, drift_at)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "retail",
            "shoppers in segments, tastes by time of day, device, season and referral, over the"
            " demo catalog; served through POST /api/offers + POST /api/activity",
            _retail,
        ),
        Scenario(
            "retail-drift",
            "retail, and every segment's favourites change each `driftAt` visits",
            _retail,
            default_drift_at=5_000,
        ),
        Scenario("tomanna", "VW's Tom/Anna tutorial, preference set 1 (rank/reward)", _tomanna(1)),
        Scenario("tomanna-2", "Tom/Anna, the tutorial's second preference set", _tomanna(2)),
        Scenario("tomanna-3", "Tom/Anna, the tutorial's third preference set", _tomanna(3)),
        Scenario(
            "tomanna-drift",
            "Tom/Anna moving from set 1 to 2 to 3 every `driftAt` visits (the tutorial's drift)",
            _tomanna(1),
            default_drift_at=2_000,
        ),
    )
}


def names() -> list[str]:
    return list(SCENARIOS)


@lru_cache(maxsize=32)
def build_world(name: str, seed: int, drift_at: int | None = None) -> World:
    """The world of scenario `name` (cached: a world is a pure function of its arguments)."""
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise ValueError(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}")
    return scenario.build(seed, scenario.default_drift_at if drift_at is None else drift_at)
