"""The offers request path reads at most one thing from Cosmos: cached activity lists are served
stale while one background thread reloads them, and a slow profile read falls back to cold start."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from shared.activity.signals import ActivitySignals, to_profile
from shared.activity.store import ActivityStore
from shared.catalog.cache import CatalogCache
from shared.offers.service import OffersService
from shared.offers.signals import NoSignals, ShopperProfile
from shared.ranker import Ranker
from shared.settings import Settings


class SlowStore:
    """popular_offers answers `version`; while `gate` is clear a load blocks on it."""

    def __init__(self) -> None:
        self.version = 1
        self.loads = 0
        self.gate = threading.Event()
        self.gate.set()

    def popular_offers(self, segment: str, limit: int) -> list[tuple[str, float]]:
        self.loads += 1
        self.gate.wait(5)
        return [(f"offer-v{self.version}", 1.0)]


def test_an_expired_list_is_served_stale_while_one_thread_reloads_it() -> None:
    store = SlowStore()
    now = [0.0]
    signals = ActivitySignals(cast(ActivityStore, store), ttl_seconds=30, clock=lambda: now[0])
    assert signals.popular_offers("family", 5) == ["offer-v1"] and store.loads == 1
    assert signals.popular_offers("family", 5) == ["offer-v1"] and store.loads == 1  # cached
    store.version, store.gate = 2, threading.Event()  # the next load hangs until released
    now[0] = 31.0
    started = time.monotonic()
    answers = [signals.popular_offers("family", 5) for _ in range(20)]
    assert time.monotonic() - started < 0.5  # nobody waited on the hanging load
    assert answers == [["offer-v1"]] * 20
    store.gate.set()
    deadline = time.monotonic() + 5
    while signals.popular_offers("family", 5) != ["offer-v2"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert signals.popular_offers("family", 5) == ["offer-v2"]
    assert store.loads == 2  # twenty expired hits, one reload


class HangingProfiles(NoSignals):
    def __init__(self, delay: float) -> None:
        self.delay = delay

    def profile(self, user_id: str) -> ShopperProfile | None:
        time.sleep(self.delay)
        return ShopperProfile(user_id, segment="family")


def service(signals: NoSignals, timeout_ms: float) -> OffersService:
    settings = Settings(profile_timeout_ms=timeout_ms)
    return OffersService(cast(CatalogCache, None), signals, cast(Ranker, None), settings)


def test_a_slow_profile_read_falls_back_to_cold_start() -> None:
    started = time.monotonic()
    profile, degraded = service(HangingProfiles(0.5), timeout_ms=30).profile("u1")
    assert profile is None and degraded is True
    assert time.monotonic() - started < 0.3
    profile, degraded = service(HangingProfiles(0.0), timeout_ms=200).profile("u1")
    assert profile is not None and profile.segment == "family" and degraded is False
    assert service(HangingProfiles(0.0), timeout_ms=200).profile(None) == (None, False)


def test_a_profile_document_becomes_the_engines_profile() -> None:
    doc: dict[str, Any] = {
        "userId": "u1",
        "segment": "family",
        "spendBand": "mid",
        "categories": {"kitchen": 4, "beauty": 1},
        "brands": {"CasaCook": 2},
        "purchases": {"kit-01": 1700000000.0},
        "offers": {
            "skillet-classic": {"views": 3, "clicks": 1, "convertedAt": 1700000000.0},
            "serum-glow": {"views": 1, "dismissedAt": 1700000100.0},
        },
        "counts": {"product_view": 3, "purchase": 1},
    }
    profile = to_profile(doc)
    assert profile.top_categories(1) == ["kitchen"] and profile.spend_band == "mid"
    assert profile.converted_offers == {"skillet-classic"}
    assert set(profile.dismissed_offers) == {"serum-glow"} and profile.visits == 4
    assert profile.purchased == {"kit-01"}


class PairStore:
    def __init__(self) -> None:
        self.loads: list[str] = []
        self.pairs = {"a": {"x": 5, "b": 9}, "b": {"x": 1, "y": 4}, "c": {"y": 2}}

    def also_bought(self, product_id: str, limit: int) -> list[dict[str, Any]]:
        self.loads.append(product_id)
        ranked = sorted(self.pairs.get(product_id, {}).items(), key=lambda kv: -kv[1])
        return [{"productId": p, "bought": n} for p, n in ranked[:limit]]


def test_also_bought_is_cached_per_product_and_merged_per_cart() -> None:
    store = PairStore()
    signals = ActivitySignals(cast(ActivityStore, store), ttl_seconds=30, clock=lambda: 0.0)
    assert signals.also_bought(["a", "b"], 5) == ["x", "y"]  # b is in the cart: not suggested
    assert signals.also_bought(["b", "c"], 5) == ["y", "x"]
    assert signals.also_bought(["c", "a"], 1) == ["b"]
    assert sorted(store.loads) == ["a", "b", "c"]  # three carts, one load per product


class CountingProfiles(NoSignals):
    def __init__(self) -> None:
        self.reads = 0
        self.fail = False

    def profile(self, user_id: str) -> ShopperProfile | None:
        self.reads += 1
        if self.fail:
            raise RuntimeError("cosmos down")
        return None if user_id == "ghost" else ShopperProfile(user_id, segment=f"read-{self.reads}")


def test_a_burst_of_page_views_reads_the_profile_once_and_a_failure_is_not_kept() -> None:
    signals = CountingProfiles()
    settings = Settings(profile_timeout_ms=500, profile_cache_seconds=0.2)
    offers = OffersService(cast(CatalogCache, None), signals, cast(Ranker, None), settings)
    first = [offers.profile("u1")[0] for _ in range(5)]
    assert signals.reads == 1 and {p.segment for p in first if p} == {"read-1"}
    offers.profile("u2")
    assert signals.reads == 2  # per visitor
    time.sleep(0.25)
    signals.fail = True
    assert offers.profile("u1") == (None, True) and signals.reads == 3  # expired: read again
    signals.fail = False
    profile, degraded = offers.profile("u1")  # the failure was not cached
    assert degraded is False
    assert signals.reads == 4 and profile is not None and profile.segment == "read-4"
    offers.profile("ghost")
    offers.profile("ghost")
    assert signals.reads == 6  # an unknown visitor is read again: their profile may appear soon
    no_cache = OffersService(
        cast(CatalogCache, None), signals, cast(Ranker, None), Settings(profile_cache_seconds=0)
    )
    no_cache.profile("u1")
    no_cache.profile("u1")
    assert signals.reads == 8
