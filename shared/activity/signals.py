"""Activity as the offers engine reads it (shared/offers/signals.ShopperSignals): the profile is
one point read per request; popularity, also-bought and conversions are cached for a short TTL,
so the request path does not query Cosmos for them on every call."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.activity.store import ActivityStore
from shared.offers.signals import ShopperProfile

T = TypeVar("T")
log = logging.getLogger(__name__)
PAIRS = 20  # co-purchased products kept per product


def to_profile(doc: dict[str, Any]) -> ShopperProfile:
    offers = doc.get("offers", {})
    return ShopperProfile(
        user_id=str(doc["userId"]),
        segment=str(doc.get("segment") or ""),
        spend_band=str(doc.get("spendBand") or "none"),
        categories={k: float(v) for k, v in doc.get("categories", {}).items()},
        brands={k: float(v) for k, v in doc.get("brands", {}).items()},
        purchased=frozenset(doc.get("purchases", {})),
        converted_offers=frozenset(k for k, s in offers.items() if s.get("convertedAt")),
        dismissed_offers={
            k: datetime.fromtimestamp(float(s["dismissedAt"]), UTC)
            for k, s in offers.items()
            if s.get("dismissedAt")
        },
        visits=int(sum(doc.get("counts", {}).values())),
    )


class ActivitySignals:
    def __init__(
        self, store: ActivityStore, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._refreshing: set[Any] = set()

    def _cached(self, key: Any, load: Callable[[], T]) -> T:
        """Stale-while-revalidate: a request only waits for a list never loaded before; an expired
        one is served as it is while one background thread reloads it, so after warm-up the
        request path's only Cosmos read is the profile."""
        hit = self._cache.get(key)
        now = self._clock()
        if hit is None:
            value = load()
            with self._lock:
                self._cache[key] = (now, value)
            return value
        if now - hit[0] >= self._ttl:
            with self._lock:
                start = key not in self._refreshing
                self._refreshing.add(key)
            if start:
                threading.Thread(
                    target=self._refresh, args=(key, load), daemon=True, name="signals-refresh"
                ).start()
        return hit[1]  # type: ignore[no-any-return]

    def _refresh(self, key: Any, load: Callable[[], Any]) -> None:
        try:
            value = load()
            with self._lock:
                self._cache[key] = (self._clock(), value)
        except Exception:  # keep serving the stale list; the next expired hit tries again
            log.exception("signals refresh failed for %s", key)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def profile(self, user_id: str) -> ShopperProfile | None:
        doc = self._store.profile(user_id)
        return None if doc is None else to_profile(doc)

    def popular_offers(self, segment: str, limit: int) -> list[str]:
        def load() -> list[str]:
            ranked = self._store.popular_offers(segment, limit) if segment else []
            ranked = ranked or self._store.popular_offers("all", limit)
            return [offer for offer, _ in ranked]

        return self._cached(("popular", segment, limit), load)

    def also_bought(self, product_ids: list[str], limit: int) -> list[str]:
        """Cached per product (a catalog's worth of keys, not one per cart), merged here."""
        scores: dict[str, int] = {}
        for product in product_ids:
            pairs = self._cached(("also", product), functools.partial(self._pairs, product))
            for other, bought in pairs:
                if other not in product_ids:
                    scores[other] = scores.get(other, 0) + bought
        return [p for p, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]

    def _pairs(self, product: str) -> list[tuple[str, int]]:
        return [(r["productId"], r["bought"]) for r in self._store.also_bought(product, PAIRS)]

    def conversions(self, offer_ids: list[str]) -> dict[str, int]:
        def load() -> dict[str, int]:
            totals = self._store.totals("offer", offer_ids)
            return {k: int(v.get("purchases", 0)) for k, v in totals.items()}

        return self._cached(("conversions", tuple(sorted(offer_ids))), load)
