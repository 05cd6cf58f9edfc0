"""Candidate generation: which eligible offers are worth ranking for this visit, and why.

Sources, in order: offers on products bought with the current product or cart (also-bought), or
in the current product's category; offers matching the shopper's category/brand affinities;
popular offers in the segment (the cold-start fallback); new offers (a discovery share, so an
offer with no history gets shown and can earn one); then the rest by priority. About 25 in all.
The first candidate is the non-personalized best guess: the bandit's baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.catalog.models import Offer, Product
from shared.offers.signals import ShopperProfile

MAX_CANDIDATES = 25
NEW_OFFER_DAYS = 14
DISCOVERY_SHARE = 0.2


@dataclass
class Candidate:
    offer: Offer
    reasons: list[str] = field(default_factory=list)  # codes, e.g. "also-bought:kit-01"


def candidates(
    offers: list[Offer],
    products: dict[str, Product],
    profile: ShopperProfile | None,
    current: list[str],
    popular: list[str],
    also_bought: list[str],
    now: datetime,
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    found: dict[str, Candidate] = {}

    def add(offer: Offer, reason: str) -> None:
        found.setdefault(offer.id, Candidate(offer)).reasons.append(reason)

    related = set(also_bought)
    current_categories = {products[p].category for p in current if p in products}
    for offer in offers:
        hit = next((p for p in offer.productIds if p in related), None)
        if hit:
            add(offer, f"also-bought:{hit}")
        elif current_categories and offer.category in current_categories:
            add(offer, f"same-category:{offer.category}")
    if profile is not None:
        top = profile.top_categories(2)
        for offer in offers:
            if offer.category in top:
                add(offer, f"affinity:{offer.category}")
            elif profile.brands.get(offer.brand, 0) > 0:
                add(offer, f"brand:{offer.brand}")
    rank = {offer_id: i for i, offer_id in enumerate(popular)}
    for offer in sorted((o for o in offers if o.id in rank), key=lambda o: rank[o.id]):
        add(offer, "popular")
    fresh = [
        o for o in offers if o.startDate and now - o.startDate < timedelta(days=NEW_OFFER_DAYS)
    ]
    for offer in fresh[: max(1, int(limit * DISCOVERY_SHARE))]:
        add(offer, "new")
    for offer in sorted(offers, key=lambda o: (-o.priority, o.id)):
        if offer.id not in found:
            add(offer, "catalog")
    ordered = sorted(found.values(), key=lambda c: _strength(c, rank))
    return ordered[:limit]


def _strength(candidate: Candidate, popular: dict[str, int]) -> tuple[int, int, int, str]:
    """Order: history-based reasons first, then popularity, then priority."""
    kinds = {r.split(":")[0] for r in candidate.reasons}
    tier = (
        0
        if kinds & {"also-bought", "affinity", "brand"}
        else 1
        if "popular" in kinds or "same-category" in kinds
        else 2
    )
    offer = candidate.offer
    return (tier, popular.get(offer.id, 10_000), -offer.priority, offer.id)
