"""The decision timestamp's text (shared/events/decision.py iso_time, cached per second) is exactly
what datetime writes, including the microsecond rounding and carries into the next second."""

from __future__ import annotations

import random

from shared.events.decision import _iso_time, iso_time


def test_iso_time_matches_datetime_everywhere() -> None:
    rng = random.Random(11)
    values = [rng.uniform(0, 4e9) for _ in range(50_000)]
    values += [1.7e9 + i / 1e6 for i in range(20_000)]  # consecutive microseconds, one second
    values += [1.9999995, 1.0000005, 1_700_000_000.9999996, 0.0, -1.5, 1e9 + 5e-7]
    assert [iso_time(v) for v in values] == [_iso_time(v) for v in values]
    assert iso_time(1_700_000_000.25) == "2023-11-14T22:13:20.250000Z"
