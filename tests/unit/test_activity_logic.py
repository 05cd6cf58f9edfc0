"""Activity logic without a database: validation, ids, rewards map, pre-aggregation, profiles,
lapsed products (the store's behaviour against Cosmos is in tests/integration/test_activity.py)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from shared.activity.aggregate import ProfileDelta, aggregate, merge_profile
from shared.activity.events import validate_batch
from shared.activity.insights import lapsed
from shared.activity.rewards import parse_map, rewards_of

NOW = 1_800_000_000.0
DAY = 86_400.0


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"type": "teleport", "userId": "u"}, "type"),
        ({"type": "page_view"}, "userId"),
        ({"type": "purchase", "userId": "u", "productId": "p", "quantity": -1}, "quantity"),
        ({"type": "purchase", "userId": "u", "productId": "p", "price": -5}, "price"),
        ({"type": "page_view", "userId": "u", "timestamp": "2099-01-01T00:00:00Z"}, "future"),
        ({"type": "offer_click", "userId": "u"}, "offerId"),
        ({"type": "add_to_cart", "userId": "u"}, "productId"),
        ({"type": "page_view", "userId": "u", "colour": "red"}, "colour"),
        ("not an object", "object"),
    ],
)
def test_bad_items_are_rejected_with_their_index_and_reason(item: object, reason: str) -> None:
    good = {"type": "page_view", "userId": "u"}
    accepted, rejected = validate_batch([good, item], NOW)
    assert len(accepted) == 1
    assert rejected[0]["index"] == 1 and reason in rejected[0]["reason"]


def test_ids_are_stable_for_the_same_event_and_kept_when_given() -> None:
    event = {
        "type": "offer_click",
        "userId": "u",
        "offerId": "o",
        "timestamp": "2026-11-23T05:00:00Z",
    }
    (a,), _ = validate_batch([event], NOW)
    (b,), _ = validate_batch([event], NOW + 60)
    (c,), _ = validate_batch([{**event, "id": "mine"}], NOW)
    assert a["id"] == b["id"] and c["id"] == "mine"


def test_rewards_map() -> None:
    rewards = parse_map("offer_click=0.2, purchase=1")
    events = [
        {"id": "1", "type": "offer_click", "eventId": "e1"},
        {"id": "2", "type": "offer_view", "eventId": "e1"},
        {"id": "3", "type": "purchase"},
    ]
    assert rewards_of(events, rewards) == [("e1", 0.2, "activity-1")]
    funnel = [*events, {"id": "4", "type": "purchase", "eventId": "e1"}]
    assert rewards_of(funnel, rewards) == [("e1", 1.0, "activity-4")]  # one outcome: the best
    for bad in ("click=1", "purchase", "purchase=2"):
        with pytest.raises(ValueError, match="ACTIVITY_REWARDS"):
            parse_map(bad)


def random_events(n: int, seed: int = 3) -> list[dict[str, object]]:
    rng = random.Random(seed)
    kinds = ["offer_view", "offer_click", "add_to_cart", "purchase", "product_view"]
    return [
        {
            "id": f"e{i}",
            "type": rng.choice(kinds),
            "userId": f"u{rng.randrange(20)}",
            "sessionId": f"s{rng.randrange(30)}",
            "offerId": f"o{rng.randrange(5)}",
            "productId": f"p{rng.randrange(8)}",
            "price": 10.0,
            "t": NOW + rng.randrange(7200),
            "context": {"segment": rng.choice(["a", "b"])},
        }
        for i in range(n)
    ]


def test_aggregates_equal_a_direct_count_and_writes_scale_with_keys() -> None:
    events = random_events(2000)
    deltas = aggregate(events, lambda p: ("cat", "brand"))
    clicks = Counter(e["offerId"] for e in events if e["type"] == "offer_click")
    for offer, n in clicks.items():
        assert deltas.counters[(f"offer|{offer}", f"offer|{offer}|t")]["clicks"] == n
    purchases = [e for e in events if e["type"] == "purchase"]
    revenue = sum(d["revenue"] for (pk, i), d in deltas.counters.items()
                  if pk.startswith("product|") and i.endswith("|t") and "revenue" in d)  # fmt: skip
    assert revenue == pytest.approx(10.0 * len(purchases))
    documents = len(deltas.counters) + len(deltas.profiles)
    assert documents < len(events) / 10  # 2,000 events -> far fewer documents


def test_profiles_merge_batches_and_keep_offer_state() -> None:
    first = aggregate(
        [
            {"id": "1", "type": "offer_click", "userId": "u", "offerId": "o1", "t": NOW},
            {
                "id": "2",
                "type": "purchase",
                "userId": "u",
                "offerId": "o1",
                "productId": "p",
                "price": 120.0,
                "quantity": 2,
                "t": NOW + 5,
            },
        ],
        lambda p: ("kitchen", "CasaCook"),
    ).profiles["u"]
    second = ProfileDelta()
    second.offers["o2"] = {"dismissedAt": NOW + 9}
    doc = merge_profile(merge_profile({"id": "u", "userId": "u"}, first), second)
    assert doc["spend"] == 240.0 and doc["spendBand"] == "mid"
    # the purchase names its product (5); the click names only the offer
    assert doc["categories"] == {"kitchen": 5.0} and doc["brands"] == {"CasaCook": 5.0}
    assert doc["offers"]["o1"]["convertedAt"] == NOW + 5
    assert doc["offers"]["o2"]["dismissedAt"] == NOW + 9
    assert doc["purchases"] == {"p": [NOW + 5]}


def test_lapsed_finds_an_overdue_recurring_product_only() -> None:
    profile = {
        "purchases": {
            "coffee": [NOW - 100 * DAY, NOW - 80 * DAY, NOW - 60 * DAY],  # every 20 d, 60 d ago
            "filters": [NOW - 30 * DAY, NOW - 20 * DAY, NOW - 10 * DAY],  # due just now
            "tent": [NOW - 300 * DAY],  # bought once: not recurring
        }
    }
    (item,) = lapsed(profile, NOW)
    assert item["productId"] == "coffee" and item["usualIntervalDays"] == 20.0
    assert item["overdueDays"] == 40.0
