"""Business rules: which offers may be shown at all. Never relaxed by the bandit or the control."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.catalog.models import Offer
from shared.offers.signals import ShopperProfile


def ineligible_reason(
    offer: Offer,
    now: datetime,
    segment: str,
    profile: ShopperProfile | None,
    conversions: int,
    dismiss_window: timedelta,
) -> str | None:
    """Why `offer` may not be shown now to this shopper, or None when it may."""
    if not offer.active:
        return "inactive"
    if offer.startDate and now < offer.startDate:
        return "not started"
    if offer.endDate and now >= offer.endDate:
        return "expired"
    if offer.segments and segment not in offer.segments:
        return "not for this segment"
    if offer.cap is not None and conversions >= offer.cap:
        return "cap reached"
    if profile is not None:
        if offer.id in profile.converted_offers:
            return "already converted"
        dismissed = profile.dismissed_offers.get(offer.id)
        if dismissed is not None and now - dismissed < dismiss_window:
            return "dismissed recently"
    return None


def eligible(
    offers: list[Offer],
    now: datetime,
    segment: str,
    profile: ShopperProfile | None,
    conversions: dict[str, int],
    dismiss_window: timedelta,
) -> list[Offer]:
    return [
        o
        for o in offers
        if ineligible_reason(o, now, segment, profile, conversions.get(o.id, 0), dismiss_window)
        is None
    ]
