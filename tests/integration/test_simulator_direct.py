"""The simulator's direct driver against the real app over HTTP: Tom/Anna through rank/reward.

A non-learner earns what uniform random earns (1/7) or what one fixed article earns (at most 0.52
with these preferences); the app's last window must beat both by a wide margin."""

from __future__ import annotations

import time

from simulator import curve
from simulator.client import AppClient
from simulator.driver import drive
from simulator.scenarios import build_world
from tests.integration.conftest import LiveHost


def test_tomanna_direct_run_learns(live_host: LiveHost) -> None:
    world = build_world("tomanna", 7)
    client = AppClient(live_host.base, session=live_host.session)
    started = time.monotonic()
    rows = drive(world, client, visitors=2_400, rate=100.0)
    windows = curve.windows(rows, 400)
    assert [w.decisions for w in windows] == [400] * 6
    last = windows[-1]
    assert abs(last.random - 1 / 7) < 1e-9 and last.oracle == 1.0
    assert last.app > 0.6, f"{curve.table(windows)}\n{live_host.log_tail()}"
    assert last.observed > 0.6
    assert windows[0].app < last.app - 0.2  # it learned during the run, it did not start there
    assert time.monotonic() - started < 120
