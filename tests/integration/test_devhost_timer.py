"""devhost timer triggers: NCRONTAB with seconds, runOnStartup, singleton runs."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from devhost.invoker import Invoker
from devhost.timer_runner import Schedule, TimerRunner
from tests.fixtures.devhost_app import RECORD, TIMER_SLEEP
from tests.fixtures.devhost_support import spec, wait_until


@pytest.fixture(autouse=True)
def _clean_record() -> Iterator[None]:
    RECORD.reset()
    TIMER_SLEEP["seconds"] = 0.0
    yield
    RECORD.reset()
    TIMER_SLEEP["seconds"] = 0.0


def _run(runner: TimerRunner, seconds: float) -> None:
    runner.start()
    time.sleep(seconds)
    runner.stop()
    assert runner.join(5)
    runner.invoker.close()


def test_timer_fires_every_second_on_a_six_field_schedule() -> None:
    runner = TimerRunner(spec("ticks"), Invoker())
    assert runner.schedule.expression == "*/1 * * * * *"
    _run(runner, 3.2)
    ticks = RECORD.get("ticks")
    assert 2 <= len(ticks) <= 4
    starts = [t[0] for t in ticks]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(0.7 < g < 1.3 for g in gaps), gaps
    assert not any(t[2] for t in ticks)  # not past due


def test_run_on_startup_fires_at_once() -> None:
    base = spec("ticks")
    on_startup = dataclasses.replace(
        base, trigger={**base.trigger, "schedule": "0 0 0 1 1 *", "runOnStartup": True}
    )
    runner = TimerRunner(on_startup, Invoker())
    runner.start()
    try:
        wait_until(lambda: RECORD.get("ticks"), timeout=2)
    finally:
        runner.stop()
        assert runner.join(5)
    assert len(RECORD.get("ticks")) == 1  # and nothing else until next New Year


def test_a_run_that_overruns_its_next_tick_is_not_started_twice() -> None:
    TIMER_SLEEP["seconds"] = 1.6
    _run(TimerRunner(spec("ticks"), Invoker()), 4.5)
    ticks = RECORD.get("ticks")
    assert 1 <= len(ticks) <= 3
    for (_, ended, _), (started, _, _) in itertools.pairwise(ticks):
        assert started >= ended  # never two at once


def test_schedule_forms() -> None:
    start = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert Schedule("*/15 * * * * *").next_after(start).second == 15
    assert Schedule("0 30 9 * * 1-5").next_after(start).isoformat() == "2026-01-01T09:30:00+00:00"
    assert Schedule("00:05:00").next_after(start).minute == 5
    with pytest.raises(ValueError, match="six fields"):
        Schedule("*/5 * * * *")
    with pytest.raises(ValueError, match="invalid"):
        Schedule("nonsense * * * * *")
