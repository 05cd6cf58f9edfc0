"""The offers engine's steps as pure functions: rules, candidates, features, arms, lift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.catalog import demo
from shared.catalog.models import Catalog, Offer, Product
from shared.offers import arms
from shared.offers.candidates import candidates
from shared.offers.eligibility import eligible, ineligible_reason
from shared.offers.features import context_features, offer_features, price_band
from shared.offers.lift import LiftReport
from shared.offers.request import OffersRequest
from shared.offers.signals import ShopperProfile

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
WEEK = timedelta(days=7)


def offer(offer_id: str, **changes: object) -> Offer:
    data: dict[str, object] = {"id": offer_id, "title": offer_id, "productIds": ["p1"]}
    data.update(changes)
    return Offer.model_validate(data)


def test_the_demo_catalog_validates_and_has_the_rule_cases() -> None:
    catalog = demo.read()
    assert len(catalog.products) >= 30 and len(catalog.offers) >= 12
    reasons = {o.id: ineligible_reason(o, NOW, "family", None, 0, WEEK) for o in catalog.offers}
    assert "expired" in reasons.values() and "not started" in reasons.values()
    assert "not for this segment" in reasons.values()
    assert sum(r is None for r in reasons.values()) >= 10


@pytest.mark.parametrize(
    ("changes", "segment", "conversions", "reason"),
    [
        ({"active": False}, "", 0, "inactive"),
        ({"endDate": "2026-11-01T00:00:00Z"}, "", 0, "expired"),
        ({"startDate": "2026-12-01T00:00:00Z"}, "", 0, "not started"),
        ({"segments": ["family"]}, "tech", 0, "not for this segment"),
        ({"cap": 5}, "", 5, "cap reached"),
        ({"cap": 5}, "", 4, None),
        ({"segments": ["family"]}, "family", 0, None),
    ],
)
def test_rules(changes: dict[str, object], segment: str, conversions: int, reason: str) -> None:
    assert ineligible_reason(offer("o", **changes), NOW, segment, None, conversions, WEEK) == reason


def test_converted_and_recently_dismissed_offers_are_not_shown_again() -> None:
    profile = ShopperProfile(
        "u",
        converted_offers=frozenset({"bought"}),
        dismissed_offers={"recent": NOW - timedelta(days=1), "old": NOW - timedelta(days=30)},
    )
    offers = [offer(i) for i in ("bought", "recent", "old", "fresh")]
    shown = eligible(offers, NOW, "", profile, {}, WEEK)
    assert [o.id for o in shown] == ["old", "fresh"]


def test_candidates_put_history_first_and_explain_themselves() -> None:
    products = {
        "p1": Product(id="p1", name="Tent", category="outdoor", price=100),
        "p2": Product(id="p2", name="Pan", category="kitchen", price=40),
    }
    offers = [
        offer("tent", productIds=["p1"], category="outdoor"),
        offer("pan", productIds=["p2"], category="kitchen"),
        offer("top", productIds=["p1"], category="outdoor", priority=5),
    ]
    cold = candidates(offers, products, None, [], [], [], NOW)
    assert cold[0].offer.id == "top" and cold[0].reasons == ["catalog"]
    profile = ShopperProfile("u", categories={"kitchen": 3.0})
    warm = candidates(offers, products, profile, [], ["tent"], [], NOW)
    assert warm[0].offer.id == "pan" and warm[0].reasons == ["affinity:kitchen"]
    assert warm[1].offer.id == "tent" and "popular" in warm[1].reasons
    bought_with = candidates(offers, products, None, ["p9"], [], ["p2"], NOW)
    assert bought_with[0].offer.id == "pan" and bought_with[0].reasons == ["also-bought:p2"]


def test_features_are_bucketed() -> None:
    request = OffersRequest(placement="cart", context={"hour": 20, "device": "mobile"})
    (ctx,) = context_features(request, ShopperProfile("u", spend_band="high"), "family")
    assert ctx["Shopper"] == {
        "placement": "cart",
        "visitor": "returning",
        "segment": "family",
        "device": "mobile",
        "timeOfDay": "evening",
        "spendBand": "high",
    }
    described = offer_features(offer("o", price=120.0, discount=0.2), ["popular", "new"])
    assert described[0]["Offer"]["priceBand"] == "high" == price_band(120)
    assert described[0]["Offer"]["discountBand"] == "big"
    assert described[1] == {"Why": {"popular": 1, "new": 1}}


def test_the_control_group_is_stable_and_near_its_share() -> None:
    users = [f"user-{i}" for i in range(4000)]
    share = sum(arms.arm(u, 20) == arms.CONTROL for u in users) / len(users)
    assert 0.18 < share < 0.22
    assert all(arms.arm(u, 20) == arms.arm(u, 20) for u in users[:100])
    assert arms.arm("", 50) == arms.PERSONALIZED and arms.arm("x", 0) == arms.PERSONALIZED


def test_lift_reports_means_intervals_and_significance() -> None:
    report = LiftReport()
    for i in range(400):
        report.add_line({"_arm": "personalized", "_label_cost": -1.0 if i % 2 else 0.0})
        report.add_line({"_arm": "control", "_label_cost": -1.0 if i % 10 == 0 else 0.0})
    report.add_line({"_label_cost": -1.0})  # not an offers decision: no arm
    body = report.to_json()
    assert body["arms"]["personalized"]["decisions"] == 400
    assert body["arms"]["personalized"]["meanReward"] == pytest.approx(0.5)
    assert body["arms"]["control"]["meanReward"] == pytest.approx(0.1)
    low, high = body["lift"]["ci95"]
    assert low < 0.4 < high and body["lift"]["significant"] is True
    assert body["lift"]["relative"] == pytest.approx(4.0)


def test_a_catalog_with_an_offer_on_an_unknown_product_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown products"):
        Catalog.model_validate({"products": [], "offers": [{"id": "o", "title": "o",
                                                             "productIds": ["nope"]}]})  # fmt: skip
