"""Features for the bandit, bucketed as a retailer would: the shopper's context (segment, time of
day, device, referral, season, placement, spend band, new or returning) and each offer's (category,
brand, price band, discount band, why it is a candidate). Bands keep the feature space small, so
the model learns from few visits and generalises across offers."""

from __future__ import annotations

from typing import Any

from shared.catalog.models import Offer
from shared.offers.request import OffersRequest
from shared.offers.signals import ShopperProfile

CONTEXT_KEYS = ("timeOfDay", "device", "referral", "season", "dayOfWeek", "country")


def price_band(price: float) -> str:
    return "low" if price < 25 else "mid" if price < 100 else "high" if price < 400 else "premium"


def discount_band(discount: float) -> str:
    return "none" if discount <= 0 else "small" if discount < 0.15 else "big"


def time_of_day(hour: int) -> str:
    return (
        "night" if hour < 6 else "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
    )


def context_features(
    request: OffersRequest, profile: ShopperProfile | None, segment: str
) -> list[dict[str, Any]]:
    ctx = request.context
    shopper: dict[str, Any] = {
        "placement": request.placement,
        "visitor": "returning" if profile is not None else "new",
    }
    if segment:
        shopper["segment"] = segment
    for key in CONTEXT_KEYS:
        if key in ctx:
            shopper[key] = str(ctx[key])
    if "timeOfDay" not in shopper and isinstance(ctx.get("hour"), int | float):
        shopper["timeOfDay"] = time_of_day(int(ctx["hour"]) % 24)
    if profile is not None:
        shopper["spendBand"] = profile.spend_band
    return [{"Shopper": shopper}]


def offer_features(offer: Offer, reasons: list[str]) -> list[dict[str, Any]]:
    price = offer.price if offer.price is not None else 0.0
    described: dict[str, Any] = {
        "category": offer.category or "general",
        "brand": offer.brand or "generic",
        "priceBand": price_band(price),
        "discountBand": discount_band(offer.discount),
    }
    why = {reason.split(":")[0]: 1 for reason in reasons}
    return [{"Offer": described}, {"Why": why}]
