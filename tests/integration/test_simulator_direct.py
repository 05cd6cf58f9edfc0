"""The simulator's direct driver against the real app over HTTP: Tom/Anna through rank/reward.

A non-learner earns what uniform random earns (1/7) or what one fixed article earns (at most 0.52
with these preferences); the app's last window must beat both by a wide margin."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from simulator import curve
from simulator.client import AppClient
from simulator.driver import drive
from simulator.evaluate import evaluate
from simulator.retail import RetailWorld
from simulator.scenarios import build_world
from tests.conftest import ROOT
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
    assert time.monotonic() - started < 300  # 24 s paced; slack for a loaded CI machine


def test_the_cli_drives_an_app_and_saves_the_curve(live_host: LiveHost, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "drive", "--url", live_host.base, "--scenario",
         "tomanna", "--visitors", "300", "--rate", "0", "--window", "100", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "decisions" in out.stdout and "oracle" in out.stdout
    rows = list(csv.DictReader((tmp_path / "tomanna-seed1.csv").open()))
    assert [int(r["window"]) for r in rows] == [100, 200, 300]
    assert all(float(r["oracle"]) == 1.0 for r in rows)
    assert (tmp_path / "tomanna-seed1.png").read_bytes()[:4] == b"\x89PNG"


def test_retail_shoppers_served_through_rank_learn(live_host: LiveHost) -> None:
    """The retail world through the Personalizer routes (its offers-API twin needs the offers
    and activity routes). The best single offer for everyone earns 0.22 here, random 0.17."""
    catalog = json.loads((ROOT / "tests" / "fixtures" / "sim_catalog.json").read_text())
    world = RetailWorld(1, catalog=catalog)
    values = evaluate(world, 4_000 // world.steps_per_visitor(2), 2)
    client = AppClient(live_host.base, session=live_host.session)
    rows = drive(world, client, visitors=4_000 // 6, sessions=2, channel="rank", rate=100.0)
    windows = curve.windows(rows, 1_000)
    last = windows[-2]  # the last full window
    assert last.decisions == 1_000
    assert last.app > values.best_fixed + 0.1, f"{curve.table(windows)}\n{values}"
    assert last.app > 1.8 * last.random
    assert last.observed > values.best_fixed
