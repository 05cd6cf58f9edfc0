"""Multi-slot rank/reward/activate through the real loop (Azurite event log, archive and models,
real VW), driven in-process as tests/integration/test_learning_loop.py does: one decision per
slot, no action twice, exclusions and baselines per slot, per-slot rewards learned and archived
like single-slot decisions, activation of every slot at once, and a planted per-slot preference
learned. The HTTP routes and their errors are tested against a live host."""

from __future__ import annotations

import random
from typing import Any

import httpx
import orjson
import pytest

from shared import wiring
from shared.contracts import MultiSlotRankRequest
from shared.sampling import FLOOR_MASS
from tests.integration import sdk_samples
from tests.integration import test_learning_loop as learning_loop
from tests.integration.conftest import LiveHost
from tests.integration.test_learning_loop import deliver

# the official SDK's multi-slot test request and the shared loop of the learning tests
ARTICLES, SDK_SLOTS = sdk_samples.ACTIONS, sdk_samples.SLOTS
loop = learning_loop.loop

PRODUCTS = [{"id": f"p{i}", "features": [{"item": {"kind": f"k{i}"}}]} for i in range(5)]
SLOTS = [
    {"id": "hero", "baselineAction": "p0", "features": [{"size": "large"}]},
    {"id": "side", "baselineAction": "p1", "features": [{"size": "small"}]},
    {"id": "footer", "baselineAction": "p2"},
]
# The planted world: rewards per user type, slot and product (the footer earns nothing). The side
# slot's favourite also does fairly well in the hero slot, so a learner blind to the slot would
# put it there (it earns more on average) and lose both slots' best rewards.
TASTE = {
    "a": {"hero": {"p3": 1.0, "p4": 0.6}, "side": {"p4": 1.0}},
    "b": {"hero": {"p4": 1.0, "p0": 0.6}, "side": {"p0": 1.0}},
}


def multi(body: dict[str, Any]) -> MultiSlotRankRequest:
    return MultiSlotRankRequest.model_validate(body)


def test_slots_follow_their_exclusions_and_never_repeat(loop: tuple) -> None:
    _, _, ranker, _ = loop
    answer = ranker.rank_multi_slot(
        multi({"actions": ARTICLES, "slots": SDK_SLOTS, "eventId": "e"})
    )
    assert answer == {
        "eventId": "e",
        "slots": [
            {"id": "Main Article", "rewardActionId": "NewsArticle"},
            {"id": "Side Bar", "rewardActionId": "SportsArticle"},
        ],
    }
    for seed in range(40):
        body = {"actions": PRODUCTS, "slots": SLOTS, "contextFeatures": [{"u": str(seed)}]}
        chosen = [s["rewardActionId"] for s in ranker.rank_multi_slot(multi(body))["slots"]]
        assert len(set(chosen)) == 3 and None not in chosen
    # a slot left with no action (its only one went to an earlier slot) answers None, unlogged
    two = {
        "actions": PRODUCTS[:2],
        "slots": [
            {"id": "s1", "baselineAction": "p0"},
            {"id": "s2", "baselineAction": "p1", "excludedActions": ["p0"]},
        ],
    }
    outcomes = set()
    for i in range(200):  # the draw is seeded by the event id: exploration picks p1 sometimes
        slots = ranker.rank_multi_slot(multi({**two, "eventId": f"x{i}"}))["slots"]
        outcomes.add((slots[0]["rewardActionId"], slots[1]["rewardActionId"]))
    assert outcomes == {("p0", "p1"), ("p1", None)}


def test_each_slot_is_logged_rewarded_and_archived_like_a_decision(loop: tuple) -> None:
    clock, publisher, ranker, learner = loop
    body = {"actions": PRODUCTS, "slots": SLOTS, "eventId": "page-1", "contextFeatures": [{"u": 1}]}
    answer = ranker.rank_multi_slot(multi(body))
    decisions = [orjson.loads(b) for b in publisher.events[wiring.current().settings.decisions_hub]]
    assert [d["EventId"] for d in decisions] == ["page-1#hero", "page-1#side", "page-1#footer"]
    assert {d["_group"] for d in decisions} == {"page-1"}
    for decision, slot in zip(decisions, answer["slots"], strict=True):
        assert decision["_ids"][decision["a"][0] - 1] == slot["rewardActionId"]
        # earlier slots' actions are not offered again; the slot's baseline comes first
        assert len(decision["_ids"]) == 5 - answer["slots"].index(slot)
        assert decision["_context"][-1]["Slot"]["slotId"] == slot["id"]
    ranker.reward_slots("page-1", [("hero", 1.0), ("side", 0.5), ("unknown-slot", 1.0)])
    deliver(publisher, times=2)  # at least once
    clock.now += 10
    report = learner.run(force=True)
    assert report.learned == 3
    labels = {}
    for line in wiring.current().archive.read(report.archive_path).splitlines():
        doc = orjson.loads(line)
        labels[doc["EventId"]] = (-doc["_label_cost"], doc["_group"], "Slot" in doc["c"])
    assert labels == {
        "page-1#hero": (1.0, "page-1", True),
        "page-1#side": (0.5, "page-1", True),
        "page-1#footer": (0.0, "page-1", True),  # no reward: the default reward
    }


def test_activating_the_event_activates_every_slot(loop: tuple) -> None:
    clock, publisher, ranker, learner = loop
    for name in ("shown", "not-shown"):
        body = {"actions": PRODUCTS, "slots": SLOTS, "eventId": name, "deferActivation": True}
        ranker.rank_multi_slot(multi(body))
    ranker.activate("shown")
    ranker.reward_slots("shown", [("side", 1.0)])
    deliver(publisher)
    clock.now += 10
    report = learner.run(force=True)
    assert (report.learned, report.pending) == (3, 3)


def test_apprentice_serves_each_slots_baseline(loop: tuple) -> None:
    _, _, ranker, _ = loop
    store = wiring.current().config_store
    store.put_service(store.service().model_copy(update={"learningMode": "Apprentice"}))
    ranker._serving.refresh_config()
    for seed in range(10):
        body = {"actions": PRODUCTS, "slots": SLOTS, "contextFeatures": [{"u": str(seed)}]}
        chosen = [s["rewardActionId"] for s in ranker.rank_multi_slot(multi(body))["slots"]]
        assert chosen == ["p0", "p1", "p2"]


def test_a_planted_preference_per_slot_is_learned(loop: tuple) -> None:
    """Rounds of 100 pages through rank -> hubs -> join -> learn -> hot-swap, seeded; the score
    is the mean reward of the hero and side slots."""
    clock, publisher, ranker, learner = loop
    rng = random.Random(5)
    hits: list[float] = []
    for round_ in range(12):
        publisher.events.clear()
        for step in range(100):
            user = rng.choice("ab")
            body = {
                "actions": PRODUCTS,
                "slots": SLOTS,
                "contextFeatures": [{"user": {"type": user}}],
                "eventId": f"ms-{round_}-{step}",
            }
            answer = ranker.rank_multi_slot(multi(body))
            served = {s["id"]: s["rewardActionId"] for s in answer["slots"]}
            rewards = [
                (slot, TASTE[user][slot][served[slot]])
                for slot in ("hero", "side")
                if served[slot] in TASTE[user][slot]
            ]
            ranker.reward_slots(answer["eventId"], rewards)
            hits.append(sum(value for _, value in rewards) / 2)
            clock.now += 0.01
        deliver(publisher)
        clock.now += 10
        learner.run(force=True)
        ranker._serving.refresh_model()
    late = sum(hits[-300:]) / 300
    # after learning synthcover gives 0 to every non-greedy action; rank's floor lifts each one
    last = [orjson.loads(b) for b in publisher.events[wiring.current().settings.decisions_hub]]
    assert all(min(d["p"]) >= FLOOR_MASS / len(d["p"]) - 1e-9 for d in last)
    assert min(min(d["p"]) for d in last) < 0.05  # the model itself explores no more than that
    # the seeded run reaches 0.87 (best possible 1.0); the same loop with the slot's features
    # dropped reaches 0.34 (it puts the side slot's favourite in the hero slot)
    assert late > 0.5, late


@pytest.fixture(scope="module")
def client(live_host: LiveHost) -> httpx.Client:
    return httpx.Client(base_url=live_host.base, timeout=30)


@pytest.mark.parametrize("base", ["/personalizer/v1.1-preview.3", "/personalizer"])
def test_multi_slot_routes(client: httpx.Client, base: str) -> None:
    body = {"actions": ARTICLES, "slots": SDK_SLOTS, "contextFeatures": [{"user": "x"}]}
    ranked = client.post(f"{base}/multislot/rank", json=body)
    assert ranked.status_code == 201, ranked.text
    event_id = ranked.json()["eventId"]
    assert [s["rewardActionId"] for s in ranked.json()["slots"]] == sdk_samples.SLOT_ANSWERS
    reward = {"reward": [{"slotId": "Main Article", "value": 1}]}
    assert client.post(f"{base}/multislot/events/{event_id}/reward", json=reward).status_code == 204
    assert client.post(f"{base}/multislot/events/{event_id}/activate").status_code == 204


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slots": [{**SDK_SLOTS[0], "baselineAction": "Nope"}]}, "not an action id"),
        ({"slots": [{**SDK_SLOTS[1], "excludedActions": ["SportsArticle"]}]}, "is excluded"),
        ({"slots": [SDK_SLOTS[0], {**SDK_SLOTS[1], "id": "Main Article"}]}, "duplicate slot"),
        ({"slots": [SDK_SLOTS[0], {**SDK_SLOTS[1], "baselineAction": "NewsArticle"}]}, "two slots"),
        ({"slots": [{**SDK_SLOTS[0], "excludedActions": ["Gone"]}]}, "unknown ids"),
        ({"slots": []}, "slots"),
        ({"slots": [{**SDK_SLOTS[1], "positionFeatures": ["flat"]}]}, "JSON object"),
    ],
)
def test_invalid_multi_slot_requests_are_refused(
    client: httpx.Client, change: dict[str, Any], message: str
) -> None:
    body = {"actions": ARTICLES, "slots": SDK_SLOTS, **change}
    answer = client.post("/personalizer/v1.1-preview.3/multislot/rank", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "InvalidMultiSlotRankRequest"
    assert message in answer.text


@pytest.mark.parametrize(
    "reward", [{"reward": []}, {"reward": [{"slotId": "a", "value": 2}]}, {"value": 1}]
)
def test_invalid_multi_slot_rewards_are_refused(client: httpx.Client, reward: Any) -> None:
    answer = client.post("/personalizer/multislot/events/e1/reward", json=reward)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "InvalidRewardRequest"
