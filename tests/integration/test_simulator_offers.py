"""Simulated shoppers through the offers API of the real app: a queue-driven retail run over the
demo catalog (POST /api/offers, rewards for what each shopper did), learning well above what a
non-learner earns on the same visits."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared import wiring
from shared.catalog import demo
from simulator.evaluate import evaluate
from simulator.scenarios import build_world
from tests.integration.conftest import (
    LiveHost,
    bootstrap_resources,
    drop_resources,
    reset_caches,
    resource_env,
)


@pytest.fixture(scope="module")
def shop() -> Iterator[LiveHost]:
    env = resource_env(uuid.uuid4().hex[:8])
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    reset_caches()
    bootstrap_resources()
    demo.load(wiring.current().catalog)
    live = LiveHost(env)
    yield live
    live.stop()
    drop_resources(env)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_caches()


def test_a_queue_driven_retail_run_through_the_offers_api_learns(shop: LiveHost) -> None:
    body = {"scenario": "retail", "channel": "offers-reward", "visitors": 500, "seed": 1,
            "sessionsPerVisitor": 2, "rate": 60, "thinkSeconds": 1, "window": 1000}  # fmt: skip
    started = shop.session.post(shop.url("/simulations"), json=body)
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["expectedDecisions"] == 3_000
    status: dict[str, Any] = run
    deadline = time.monotonic() + 180
    while status["status"] == "running" and time.monotonic() < deadline:
        time.sleep(2)
        status = shop.session.get(shop.url(f"/simulations/{run['id']}")).json()
    assert status["status"] == "finished", f"{status}\n{shop.log_tail()}"
    world = build_world("retail", 1)
    values = evaluate(world, 500, 2)  # the same visits, without the app
    windows = status["windows"]
    assert [w["decisions"] for w in windows] == [1_000] * 3
    assert abs(sum(w["oracle"] for w in windows) / 3 - values.oracle) < 1e-3
    last = windows[-1]
    assert last["app"] > values.best_fixed + 0.1, f"{windows}\n{values}"
    assert last["app"] > 1.8 * last["random"]
    assert last["app"] > windows[0]["app"] + 0.1  # learned during the run
