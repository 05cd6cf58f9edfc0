"""The whole loop over real HTTP, with the local host running every trigger: rank -> decisions hub
-> join -> learn timer -> model blob -> hot-swap in the HTTP worker. Timing is real (the learner
ticks every second, rewards wait 3 s), so the margin is wide: a learner that learns nothing clicks
at most 1/7 of the time on Tom/Anna (the baseline never)."""

from __future__ import annotations

import time

from simulator.worlds import TomAnna
from tests.integration.conftest import LiveHost

V1 = "/personalizer/v1.0"


def test_learner_beats_random_through_the_http_api(live_host: LiveHost) -> None:
    world = TomAnna(seed=21)
    session = live_host.session
    clicks: list[float] = []
    for step in range(2_400):
        visit = world.visit()
        body = world.rank_request(visit, event_id=f"http-tomanna-{step}")
        ranked = session.post(live_host.url(f"{V1}/rank"), json=body)
        assert ranked.status_code == 201, ranked.text
        choice = ranked.json()["rewardActionId"]
        value = world.reward(visit, choice)
        clicks.append(value)
        if value:
            url = live_host.url(f"{V1}/events/{body['eventId']}/reward")
            assert session.post(url, json={"value": value}).status_code == 204
        if step % 100 == 99:
            time.sleep(1.0)  # a steady pace, so the loop (wait 3 s, learn every second) keeps up
    late = sum(clicks[-600:]) / 600
    assert late > 0.5, f"late CTR {late:.2f}; host log:\n{live_host.log_tail()}"
