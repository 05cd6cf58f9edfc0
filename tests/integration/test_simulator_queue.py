"""Queue-driven simulated visitors against the real app: POST /api/simulations on a live host,
the `simulate` queue trigger playing every step through rank/reward over HTTP, the run store in
Azurite, poison messages parked in `<queue>-poison` while the run goes on."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

from azure.storage.queue import QueueClient

from shared import connections, wiring
from simulator.run_store import RunSpec, RunStore
from tests.integration.conftest import LiveHost


def queue(live_host: LiveHost, suffix: str = "") -> QueueClient:
    name = live_host.env["SIMULATOR_QUEUE"] + suffix
    return connections.queue_service_client("AzureWebJobsStorage").get_queue_client(name)


def test_a_queue_driven_run_learns_and_poison_is_parked(live_host: LiveHost) -> None:
    session, url = live_host.session, live_host.url
    body = {
        "scenario": "tomanna",
        "visitors": 600,
        "sessionsPerVisitor": 3,
        "seed": 5,
        "rate": 50,
        "thinkSeconds": 1,
        "window": 300,
    }
    started = session.post(url("/simulations"), json=body)
    assert started.status_code == 201, started.text
    run = started.json()
    assert started.headers["Location"] == f"/api/simulations/{run['id']}"
    assert run["expectedDecisions"] == 1_800 and run["decisions"] == 0
    # two poison messages in the middle of the run: not JSON, and JSON that is not ours
    sim_queue = queue(live_host)
    for raw in (b"\x00not json", b'{"hello": "world"}'):
        sim_queue.send_message(base64.b64encode(raw).decode())
    deadline = time.monotonic() + 150
    status: dict[str, Any] = run
    while status["status"] == "running" and time.monotonic() < deadline:
        time.sleep(2)
        status = session.get(url(f"/simulations/{run['id']}")).json()
    assert status["status"] == "finished", f"{status}\n{live_host.log_tail()}"
    assert status["decisions"] == 1_800 and status["visitorsFinished"] == 600
    windows = status["windows"]
    assert [w["decisions"] for w in windows] == [300] * 6
    last = status["lastWindow"]
    assert last == windows[-1]
    assert last["oracle"] == 1.0 and abs(last["random"] - 1 / 7) < 1e-3
    # a non-learner earns 1/7 (random) or at most 0.52 (one fixed article for everyone)
    assert last["app"] > 0.6 and last["observed"] > 0.6, f"{windows}\n{live_host.log_tail()}"
    poison = queue(live_host, "-poison")
    deadline = time.monotonic() + 60
    while poison.get_queue_properties().approximate_message_count < 2:
        assert time.monotonic() < deadline, live_host.log_tail()
        time.sleep(1)
    parked = sorted(base64.b64decode(m.content) for m in poison.peek_messages(max_messages=5))
    assert parked == [b"\x00not json", b'{"hello": "world"}']


def test_the_api_refuses_bad_runs_and_stops_runs(live_host: LiveHost) -> None:
    session, url = live_host.session, live_host.url
    for body, target in (
        ({"scenario": "mars"}, "unknown scenario"),
        ({"scenario": "tomanna", "visitors": 0}, "visitors"),
        ({"scenario": "tomanna", "channel": "offers"}, "no offers page"),
        ({"scenario": "tomanna", "speed": 1}, "speed"),
    ):
        answer = session.post(url("/simulations"), json=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "InvalidSimulation"
        assert target in answer.json()["error"]["message"]
    missing = session.get(url("/simulations/nope"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SimulationNotFound"
    assert session.delete(url("/simulations/nope")).status_code == 404
    run = session.post(
        url("/simulations"), json={"scenario": "tomanna", "visitors": 5_000, "rate": 20}
    ).json()
    time.sleep(4)
    stopped = session.delete(url(f"/simulations/{run['id']}"))
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    time.sleep(4)  # steps already running finish; then nothing more
    before = session.get(url(f"/simulations/{run['id']}")).json()["decisions"]
    time.sleep(4)
    after = session.get(url(f"/simulations/{run['id']}")).json()
    assert after["status"] == "stopped" and after["decisions"] == before < 5_000


def test_run_store_counts_each_step_once_under_concurrency(isolated: dict[str, str]) -> None:
    app = wiring.current()
    store = RunStore(app.blob_service.get_container_client(isolated["SIMULATIONS_CONTAINER"]))
    spec = RunSpec("r1", "tomanna", 16, 1, 1, 10.0, 0.0, None, "rank", 20, 5)
    store.create(spec)

    def play(visitor: int) -> None:
        for step in range(5):
            row = {
                "visitor": visitor,
                "step": step,
                "ordinal": visitor * 5 + step,
                "reward": 1.0,
                "expected": 0.5,
                "oracle": 1.0,
                "random": 0.25,
                "baseline": 0.0,
                "arm": "treatment",
            }
            for _ in range(2):  # every step delivered twice
                store.record(spec, row)

    threads = [threading.Thread(target=play, args=(v,)) for v in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    summary = store.summary("r1")
    assert summary["decisions"] == 80 and summary["status"] == "finished"
    assert summary["visitorsFinished"] == 16
    assert [w["decisions"] for w in summary["windows"]] == [20, 20, 20, 20]
    assert summary["reward"]["app"] == 0.5 and summary["reward"]["regret"] == 0.5
    assert store.accounted("r1", 3, 4) and not store.accounted("r1", 99, 0)
    assert json.loads(store.stop("r1").to_json())["status"] == "stopped"
