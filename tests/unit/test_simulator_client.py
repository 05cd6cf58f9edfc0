"""The website side of the simulator against an in-test stand-in of the app's routes (unit only;
tests/integration drives the real app)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from simulator.client import AppClient, AppError, activity_events
from simulator.driver import drive
from simulator.retail import RetailWorld
from simulator.tomanna import TomAnnaWorld
from simulator.visitor import play_step

CATALOG = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "sim_catalog.json").read_text()
)


class StandIn(BaseAdapter):
    """Answers /offers with the first offer id it is given, /rank with a random action."""

    def __init__(self, offer: str = "o-pan", fail: int = 0) -> None:
        super().__init__()
        self.offer = offer
        self.fail = fail
        self.calls: list[tuple[str, Any, dict[str, str]]] = []
        self.rng = random.Random(0)

    def send(self, request: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = json.loads(request.body) if request.body else None
        path = request.path_url.removeprefix("/api")
        self.calls.append((path, body, dict(request.headers)))
        response = requests.Response()
        response.status_code, payload = self._answer(path, body)
        response._content = json.dumps(payload).encode() if payload is not None else b""
        response.request = request
        return response

    def _answer(self, path: str, body: Any) -> tuple[int, Any]:
        if self.fail:
            return self.fail, {"error": {"code": "Down", "message": "down"}}
        n = len(self.calls)
        if path == "/offers":
            return 200, {"eventId": f"ev{n}", "offers": [{"offerId": self.offer}], "arm": "control"}
        if path == "/activity":
            bad = [{"index": i, "reason": "no type"} for i, e in enumerate(body) if "type" not in e]
            return 202, {"accepted": len(body) - len(bad), "rejected": bad}
        if path.endswith("/rank"):
            action = self.rng.choice(body["actions"])["id"]
            return 201, {"eventId": body.get("eventId") or f"ev{n}", "rewardActionId": action}
        if path.endswith("/reward"):
            return 204, None
        return 404, {"error": {"code": "ResourceNotFound", "message": path}}

    def close(self) -> None:
        pass


def client_with(adapter: StandIn, key: str = "") -> AppClient:
    session = requests.Session()
    session.mount("http://app", adapter)
    return AppClient("http://app/api/", key, session=session)


def test_offers_channel_posts_the_shoppers_activity_with_the_event_id() -> None:
    adapter = StandIn()
    world = RetailWorld(2, catalog=CATALOG)
    results = [play_step(world, client_with(adapter, "k1"), "offers", v, 0, 1) for v in range(200)]
    offers = [c for c in adapter.calls if c[0] == "/offers"]
    activity = [c for c in adapter.calls if c[0] == "/activity"]
    assert len(offers) == len(activity) == 200
    assert all(c[2]["Ocp-Apim-Subscription-Key"] == "k1" for c in adapter.calls)
    first = offers[0][1]
    assert first["placement"] and first["userId"].startswith("shopper-2-")
    assert set(first["context"]) == {"segment", "timeOfDay", "device", "referral", "season"}
    kinds: set[str] = set()
    for (_, events, _), result in zip(activity, results, strict=True):
        assert events[0]["type"] == "offer_view"
        assert {e["eventId"] for e in events} == {events[0]["eventId"]}
        assert all(e["offerId"] == "o-pan" and e["productId"] == "p-pan" for e in events)
        kinds.update(e["type"] for e in events)
        stages = [e["type"] for e in events[1:]]
        assert result.reward == max((world.stage_values[s] for s in stages), default=0.0)
        assert result.arm == "control"
    assert kinds == {"offer_view", "offer_click", "add_to_cart", "purchase"}
    purchase = next(e for _, events, _ in activity for e in events if e["type"] == "purchase")
    assert purchase["quantity"] == 1 and purchase["price"] == pytest.approx(45 * 0.7)


def test_activity_ids_are_stable_for_a_replayed_step() -> None:
    world = RetailWorld(2, catalog=CATALOG)
    visit = world.visit_at(1, 0, 1)
    from simulator.client import Decision

    decision = Decision("ev-1", "o-pan")
    reaction = world.reaction(("offer_click",))
    one = activity_events(visit, decision, reaction)
    two = activity_events(visit, decision, reaction)
    assert (
        [e["id"] for e in one] == [e["id"] for e in two] == ["ev-1-offer_view", "ev-1-offer_click"]
    )


def test_rank_channel_rewards_only_what_the_visitor_did() -> None:
    adapter = StandIn()
    rows = drive(TomAnnaWorld(3), client_with(adapter), visitors=300, run_id="r1")
    ranks = [c for c in adapter.calls if c[0].endswith("/rank")]
    rewards = [c for c in adapter.calls if c[0].endswith("/reward")]
    assert len(ranks) == 300
    assert ranks[5][1]["eventId"] == "sim-r1-5-0"
    assert len(rewards) == sum(r["reward"] > 0 for r in rows) > 0
    assert all(c[1] == {"value": 1.0} for c in rewards)
    assert [r["ordinal"] for r in rows] == list(range(300))


def test_an_app_error_is_raised_not_swallowed() -> None:
    with pytest.raises(AppError, match="503"):
        play_step(TomAnnaWorld(1), client_with(StandIn(fail=503)), "rank", 0, 0, 1)


def test_paced_concurrent_drive_keeps_every_visitors_steps_in_order() -> None:
    adapter = StandIn()
    world = RetailWorld(4, catalog=CATALOG)
    rows = drive(world, client_with(adapter), visitors=20, sessions=2, workers=4, rate=2_000)
    assert [r["ordinal"] for r in rows] == list(range(20 * world.steps_per_visitor(2)))


def test_offers_reward_channel_asks_offers_and_rewards_through_the_reward_route() -> None:
    adapter = StandIn()
    world = RetailWorld(2, catalog=CATALOG)
    client = client_with(adapter)
    results = [play_step(world, client, "offers-reward", v, 0, 1, f"e{v}") for v in range(100)]
    offers = [c for c in adapter.calls if c[0] == "/offers"]
    rewards = [c for c in adapter.calls if c[0].endswith("/reward")]
    assert [c[1]["eventId"] for c in offers] == [f"e{v}" for v in range(100)]
    assert not [c for c in adapter.calls if c[0] == "/activity"]
    assert sorted(c[1]["value"] for c in rewards) == sorted(r.reward for r in results if r.reward)


def test_activity_the_app_rejects_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import simulator.client as client_module
    from simulator.client import Decision

    def without_type(*args: Any) -> list[dict[str, Any]]:
        events = activity_events(*args)
        del events[0]["type"]
        return events

    monkeypatch.setattr(client_module, "activity_events", without_type)
    world = RetailWorld(2, catalog=CATALOG)
    with pytest.raises(AppError, match="rejected"):
        client_with(StandIn()).feedback(
            world, world.visit_at(0, 0, 1), Decision("e1", "o-pan"), world.reaction(()), "offers"
        )
