"""Queue-driven runs on in-memory parts (the Blob fake, a list for the queue, the stand-in app):
spawning at the run's rate, each step accounted once under redelivery, poison for what is not
a simulator message, stop. tests/integration runs the same against Azurite and the real app."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from simulator.run_store import RunStore
from simulator.runs import BadMessage, SimulationRequest, Simulations, decode
from tests.fakes.blob import FakeContainer
from tests.unit.test_simulator_client import StandIn, client_with


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def send_message(self, content: str, visibility_timeout: int | None = None) -> None:
        self.sent.append((json.loads(base64.b64decode(content)), visibility_timeout or 0))


def simulations() -> tuple[Simulations, ListQueue, StandIn]:
    queue, adapter = ListQueue(), StandIn()
    sims = Simulations(RunStore(FakeContainer()), queue, lambda: client_with(adapter))  # type: ignore[arg-type]
    return sims, queue, adapter


def drain(sims: Simulations, queue: ListQueue, redeliver: float = 0.0, seed: int = 0) -> int:
    """Deliver every message (and, with probability `redeliver`, deliver it again later)."""
    rng = random.Random(seed)
    handled = 0
    while queue.sent:
        index = rng.randrange(len(queue.sent))  # any order: delays are not modelled here
        message, _ = queue.sent.pop(index)
        sims.handle(json.dumps(message).encode())  # what the host hands over
        handled += 1
        if rng.random() < redeliver:
            queue.sent.append((message, 0))
    return handled


def test_a_run_plays_every_step_once_even_when_messages_come_twice() -> None:
    sims, queue, adapter = simulations()
    status = sims.start(
        SimulationRequest(scenario="tomanna", visitors=40, sessionsPerVisitor=3, rate=8, window=30)
    )
    assert status["status"] == "running" and status["expectedDecisions"] == 120
    handled = drain(sims, queue, redeliver=0.3, seed=4)
    final = sims.status(status["id"])
    assert handled > 120 + 10  # duplicates were delivered
    assert final["decisions"] == 120 and final["status"] == "finished"
    assert final["visitorsFinished"] == 40
    assert [w["decisions"] for w in final["windows"]] == [30, 30, 30, 30]
    ranks = [c for c in adapter.calls if c[0].endswith("/rank")]
    assert 120 <= len(ranks) < handled  # an accounted step's duplicate never reaches the app
    reward = final["reward"]
    assert reward["oracle"] == 1.0 and reward["random"] == pytest.approx(1 / 7, abs=1e-3)


def test_spawn_follows_the_rate_and_think_time_delays_the_next_page() -> None:
    sims, queue, _ = simulations()
    status = sims.start(
        SimulationRequest(scenario="tomanna", visitors=100, sessionsPerVisitor=2, rate=4)
    )
    ((spawn, delay),) = queue.sent
    assert spawn == {"kind": "spawn", "run": status["id"], "slot": 0} and delay == 0
    queue.sent.clear()
    sims.handle(json.dumps(spawn))
    steps = [(m, d) for m, d in queue.sent if m["kind"] == "step"]
    # 4 decisions/s with 2 steps per visitor: 2 visitors/s, 10 in the first 5 s, 0.5 s apart
    assert [m["visitor"] for m, _ in steps] == list(range(10))
    assert [d for _, d in steps] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert [m for m, d in queue.sent if m["kind"] == "spawn"] == [
        {"kind": "spawn", "run": status["id"], "slot": 1}
    ]
    queue.sent.clear()
    sims.handle(json.dumps(steps[0][0]))
    ((following, think),) = queue.sent
    assert following["step"] == 1 and think == 3  # a new session: three think times


def test_what_is_not_a_simulator_message_raises_for_the_poison_queue() -> None:
    sims, _, _ = simulations()
    for body in (b"not json", b"[1]", b'{"kind": "other"}', b'{"kind": "step"}'):
        with pytest.raises(BadMessage):
            sims.handle(body)
    with pytest.raises(BadMessage):
        decode('{"kind": "step", "run": "x", "visitor": "a"}')
    run = sims.start(SimulationRequest(scenario="tomanna", visitors=2))
    with pytest.raises(BadMessage, match="no visitor"):
        sims.handle(json.dumps({"kind": "step", "run": run["id"], "visitor": 9, "step": 0}))
    # a message of a run that no longer exists is not poison: it is dropped
    assert "unknown" in sims.handle(json.dumps({"kind": "spawn", "run": "gone", "slot": 0}))


def test_a_stopped_run_plays_no_more_steps() -> None:
    sims, queue, adapter = simulations()
    run = sims.start(SimulationRequest(scenario="tomanna", visitors=10, rate=100))
    stopped = sims.stop(run["id"])
    assert stopped["status"] == "stopped"
    sims._specs.clear()  # the 2 s cache of run specs
    drain(sims, queue)
    assert sims.status(run["id"])["decisions"] == 0 and adapter.calls == []


def test_bad_requests_are_refused() -> None:
    sims, _, _ = simulations()
    with pytest.raises(ValueError, match="unknown scenario"):
        sims.start(SimulationRequest(scenario="mars"))
    with pytest.raises(ValueError, match="no offers page"):
        sims.start(SimulationRequest(scenario="tomanna", channel="offers"))
    with pytest.raises(ValueError):
        SimulationRequest.model_validate({"scenario": "tomanna", "visitors": 0})
    with pytest.raises(ValueError):
        SimulationRequest.model_validate({"scenario": "tomanna", "speed": 3})
