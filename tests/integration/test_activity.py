"""Activity against the real emulators: aggregates equal a direct count, a redelivered batch is
counted once, the archive replays into identical aggregates, planted co-purchases and a lapsed
customer are found, erasure leaves nothing; and through a live host, POST /api/activity reaches
the aggregates and an event carrying a decision's eventId is learned as its reward."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from typing import Any

import orjson
import pytest

from shared import wiring
from tests.integration.conftest import (
    LiveHost,
    bootstrap_resources,
    reset_caches,
)

NOW = time.time()
DAY = 86_400.0


def batch(events: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


def shopping(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """Random activity plus planted baskets: p1 and p2 are always bought together."""
    rng = random.Random(seed)
    kinds = ["offer_view", "offer_click", "product_view", "add_to_cart", "purchase"]
    events = []
    for i in range(n):
        kind = rng.choice(kinds)
        events.append(
            {
                "id": f"r{i}",
                "type": kind,
                "userId": f"u{rng.randrange(50)}",
                "sessionId": f"s{i}",  # one event per session: no accidental pairs
                "offerId": f"o{rng.randrange(6)}",
                "productId": f"p{rng.randrange(3, 12)}",
                "price": 9.5,
                "t": NOW - rng.randrange(3600),
                "context": {"segment": rng.choice(["family", "tech"])},
            }
        )
    for j in range(30):
        for product in ("p1", "p2"):
            events.append({"id": f"b{j}-{product}", "type": "purchase", "userId": f"buyer{j}",
                           "sessionId": f"basket{j}", "productId": product, "price": 20.0,
                           "t": NOW - 60})  # fmt: skip
    return events


def counters(container: str) -> dict[str, dict[str, Any]]:
    docs = wiring.current().cosmos.query(container, "SELECT * FROM c")
    drop = {"appliedBatches"}
    return {d["id"]: {k: v for k, v in d.items() if not k.startswith("_") and k not in drop}
            for d in docs}  # fmt: skip


def test_aggregates_count_exactly_once_and_replay_identically(isolated: dict[str, str]) -> None:
    consumer = wiring.current().activity_consumer
    events = shopping(1500)
    first = consumer.consume(batch(events[:900]))
    again = consumer.consume(batch(events[:900]))  # the host redelivers after a crash
    consumer.consume(batch(events[900:]))
    assert first.applied.writes == first.applied.documents > 0
    assert again.batch == first.batch and again.applied.writes == 0
    store = wiring.current().activity_store
    clicks = Counter(e["offerId"] for e in events if e["type"] == "offer_click")
    totals = store.totals("offer", sorted(clicks))
    assert {k: int(v["clicks"]) for k, v in totals.items()} == dict(clicks)
    purchases = Counter(e["productId"] for e in events if e["type"] == "purchase")
    assert int(store.totals("product", ["p1"])["p1"]["purchases"]) == purchases["p1"] == 30
    profile = store.profile("u7")
    assert profile is not None
    assert sum(profile["counts"].values()) == sum(e["userId"] == "u7" for e in events)

    before = (counters("aggregates"), counters("profiles"))
    os.environ["COSMOS_DATABASE"] = f"{isolated['COSMOS_DATABASE']}-replay"
    try:
        reset_caches()
        bootstrap_resources()
        fresh = wiring.current().activity_consumer
        for path in fresh.archived_batches():
            fresh.replay(path)
        after = (counters("aggregates"), counters("profiles"))
    finally:
        wiring.current().cosmos_client.delete_database(os.environ["COSMOS_DATABASE"])
        os.environ["COSMOS_DATABASE"] = isolated["COSMOS_DATABASE"]
        reset_caches()
    for index in (0, 1):
        diff = {
            k: (before[index].get(k), after[index].get(k))
            for k in before[index].keys() | after[index].keys()
            if before[index].get(k) != after[index].get(k)
        }
        if diff:
            k, (b, a) = next(iter(diff.items()))
            assert not diff, (k, {f: (b.get(f), a.get(f)) for f in b if b.get(f) != a.get(f)})


def test_planted_pairs_lapsed_customer_and_erasure(isolated: dict[str, str]) -> None:
    consumer = wiring.current().activity_consumer
    store = wiring.current().activity_store
    consumer.consume(batch(shopping(300)))
    ((top, *_), bundles) = store.also_bought("p1", 3), None
    assert top["productId"] == "p2" and top["bought"] == 30
    from shared.activity.insights import bundles as bundle_list
    from shared.activity.insights import lapsed

    bundles = bundle_list(store, 3)
    assert bundles[0]["products"] == ["p1", "p2"] and bundles[0]["lift"] > 1
    coffee = [{"id": f"c{i}", "type": "purchase", "userId": "b2b-7", "productId": "coffee",
               "price": 30.0, "t": NOW - (100 - 20 * i) * DAY} for i in range(3)]  # fmt: skip
    consumer.consume(batch(coffee))
    profile = store.profile("b2b-7")
    assert profile is not None
    assert [x["productId"] for x in lapsed(profile, NOW)] == ["coffee"]
    assert store.delete_user("b2b-7") and store.profile("b2b-7") is None
    assert not store.delete_user("b2b-7")


def test_a_poison_event_is_parked_and_the_batch_goes_on(isolated: dict[str, str]) -> None:
    consumer = wiring.current().activity_consumer
    good = {"id": "g1", "type": "page_view", "userId": "u1", "t": NOW}
    report = consumer.consume([b"{not json", orjson.dumps({"type": "?"}), orjson.dumps(good)])
    assert (report.events, report.parked) == (1, 2)
    assert wiring.current().activity_store.profile("u1") is not None


@pytest.fixture(scope="module")
def host(live_host: LiveHost) -> LiveHost:
    return live_host


def test_post_activity_answers_per_item_and_reaches_the_aggregates(host: LiveHost) -> None:
    s = host.session
    events = [
        {"type": "product_view", "userId": "web-1", "productId": "kit-01"},
        {"type": "purchase", "userId": "web-1", "productId": "kit-01", "price": 45.0},
        {"type": "purchase", "userId": "web-1", "quantity": -2, "productId": "kit-01"},
    ]
    resp = s.post(host.url("/activity"), json=events, timeout=10)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["accepted"] == 2 and body["rejected"][0]["index"] == 2
    bad = s.post(host.url("/activity"), json=[events[2]], timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidActivity"
    too_many = s.post(host.url("/activity"), json=[events[0]] * 501, timeout=10)
    assert too_many.status_code == 400
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        profile = s.get(host.url("/users/web-1/profile"), timeout=10)
        if profile.status_code == 200 and profile.json()["counts"].get("purchase") == 1:
            break
        time.sleep(0.5)
    assert profile.status_code == 200 and profile.json()["spend"] == 45.0
    assert s.delete(host.url("/users/web-1"), timeout=10).status_code == 204
    assert s.get(host.url("/users/web-1/profile"), timeout=10).status_code == 404


def test_activity_with_an_event_id_is_learned_as_its_reward(host: LiveHost) -> None:
    s = host.session
    rank = {
        "contextFeatures": [{"user": "Ana"}],
        "actions": [{"id": "a", "features": [{"k": "a"}]}, {"id": "b", "features": [{"k": "b"}]}],
    }
    event_id = s.post(host.url("/personalizer/v1.0/rank"), json=rank, timeout=10).json()["eventId"]
    purchase = {"type": "purchase", "userId": "ana", "productId": "x", "offerId": "a",
                "eventId": event_id, "price": 10}  # fmt: skip
    assert s.post(host.url("/activity"), json=purchase, timeout=10).status_code == 202
    archive = wiring.current().archive
    deadline = time.monotonic() + 40
    learned = None
    while time.monotonic() < deadline and learned is None:
        for path in archive.list():
            for line in archive.read(path).splitlines():
                doc = orjson.loads(line)
                if doc["EventId"] == event_id:
                    learned = doc
        time.sleep(1)
    assert learned is not None and learned["_label_cost"] == -1.0  # purchase -> reward 1.0
