"""What the offers engine reads about shoppers, behind a narrow protocol: one profile point read
on the request path, and popularity / co-purchase lists the engine caches.

`NoSignals` answers "nothing known" (cold start for everyone: candidates from the catalog and
priorities); the activity subsystem's stores are adapted to this protocol in shared/wiring.py
once they exist, so the engine never depends on how aggregates are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ShopperProfile:
    user_id: str
    segment: str = ""
    spend_band: str = "none"  # none | low | mid | high
    categories: dict[str, float] = field(default_factory=dict)  # affinity scores
    brands: dict[str, float] = field(default_factory=dict)
    purchased: frozenset[str] = frozenset()  # product ids
    converted_offers: frozenset[str] = frozenset()
    dismissed_offers: dict[str, datetime] = field(default_factory=dict)
    visits: int = 0

    def top_categories(self, n: int = 2) -> list[str]:
        ranked = sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))
        return [c for c, score in ranked[:n] if score > 0]


class ShopperSignals(Protocol):
    def profile(self, user_id: str) -> ShopperProfile | None: ...

    def popular_offers(self, segment: str, limit: int) -> list[str]: ...

    def also_bought(self, product_ids: list[str], limit: int) -> list[str]: ...

    def conversions(self, offer_ids: list[str]) -> dict[str, int]: ...


class NoSignals:
    """Nothing known about anyone: every visitor is a cold start."""

    def profile(self, user_id: str) -> ShopperProfile | None:
        return None

    def popular_offers(self, segment: str, limit: int) -> list[str]:
        return []

    def also_bought(self, product_ids: list[str], limit: int) -> list[str]:
        return []

    def conversions(self, offer_ids: list[str]) -> dict[str, int]:
        return {}
