"""Simulated shoppers through the offers API of the real app over the demo catalog: POST
/api/offers, then the shopper's activity with the decision's eventId to POST /api/activity (which
the app turns into rewards and profiles); learning well above what a non-learner earns on the
same visits, directly and through the queue."""

from __future__ import annotations

import time
from typing import Any

import pytest

from simulator import curve
from simulator.client import AppClient
from simulator.driver import drive
from simulator.evaluate import evaluate
from simulator.scenarios import build_world
from tests.integration.conftest import (
    LiveHost,
)


@pytest.fixture(scope="module")
def shop(shop_host: LiveHost) -> LiveHost:
    return shop_host


def test_retail_shoppers_through_offers_and_activity_learn(shop: LiveHost) -> None:
    """Direct traffic (no queue): every visit asks POST /api/offers and reports the shopper's
    activity; the app's last window beats the best fixed offer and random by a wide margin."""
    world = build_world("retail", 1)
    visitors = 2_400 // world.steps_per_visitor(2)
    values = evaluate(world, visitors, 2)  # the same visits, without the app
    client = AppClient(shop.base, session=shop.session)
    # paced: the learning lag is seconds, so a fixed rate makes it a fixed number of decisions
    rows = drive(world, client, visitors=visitors, sessions=2, channel="offers", rate=40)
    windows = curve.windows(rows, 800)
    assert [w.decisions for w in windows] == [800] * 3
    assert abs(sum(w.oracle for w in windows) / 3 - values.oracle) < 1e-6
    last = windows[-1]
    late = (windows[-1].app + windows[-2].app) / 2  # two windows: less noise than one
    assert late > values.best_fixed + 0.05, f"{curve.table(windows)}\n{values}"
    assert last.app > 1.8 * last.random
    # learned during the run: far above the first 200 decisions, served before any model (at
    # 40/s the first model arrives after them). Not the first 800: how much of those is learned
    # already depends on the machine's load (0.21-0.38 measured), the cold start does not (0.14).
    cold = curve.windows(rows, 200)[0]
    assert last.app > cold.app + 0.15, f"{curve.table(windows)}\ncold start: {cold}"


def test_a_queue_driven_retail_run_posts_activity_the_app_records(shop: LiveHost) -> None:
    body = {"scenario": "retail", "channel": "offers", "visitors": 60, "seed": 2,
            "sessionsPerVisitor": 1, "rate": 30, "thinkSeconds": 1, "window": 60}  # fmt: skip
    started = shop.session.post(shop.url("/simulations"), json=body)
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["expectedDecisions"] == 180 and run["channel"] == "offers"
    status: dict[str, Any] = run
    deadline = time.monotonic() + 240
    while status["status"] == "running" and time.monotonic() < deadline:
        time.sleep(2)
        status = shop.session.get(shop.url(f"/simulations/{run['id']}")).json()
    assert status["status"] == "finished", f"{status}\n{shop.log_tail()}"
    assert status["decisions"] == 180 and status["visitorsFinished"] == 60
    assert 0 < status["reward"]["random"] < status["reward"]["oracle"]
    # the shoppers' activity reached the app: their profiles hold what they did
    world = build_world("retail", 2)
    users = {world.visit_at(v, 0, 1).user_id for v in range(60)}
    deadline = time.monotonic() + 60  # the activity trigger aggregates a little later
    while True:
        found = [shop.session.get(shop.url(f"/users/{u}/profile")).status_code for u in users]
        if found.count(200) >= len(users) // 2 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert found.count(200) >= len(users) // 2, found
