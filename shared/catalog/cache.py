"""The catalog in memory for serving: loaded once, then refreshed in the background when older
than its TTL, so a request never waits on Cosmos for the catalog (only the very first one does)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.catalog.models import Offer, Product
from shared.catalog.store import CatalogStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogSnapshot:
    products: dict[str, Product]
    offers: list[Offer]
    loaded_at: float
    by_id: dict[str, Offer] = field(default_factory=dict)

    @classmethod
    def of(cls, products: list[Product], offers: list[Offer], at: float) -> CatalogSnapshot:
        ordered = sorted(offers, key=lambda o: o.id)
        return cls({p.id: p for p in products}, ordered, at, {o.id: o for o in ordered})


class CatalogCache:
    def __init__(
        self,
        store: CatalogStore,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()
        self._refreshing = False

    def snapshot(self) -> CatalogSnapshot:
        current = self._snapshot
        if current is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = self._load()
                return self._snapshot
        if self._clock() - current.loaded_at > self._ttl and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._refresh, daemon=True, name="catalog-refresh").start()
        return current

    def invalidate(self) -> None:
        """After an admin write in this worker: the next request reloads."""
        self._snapshot = None

    def _load(self) -> CatalogSnapshot:
        products = [p for p in self._store.all("product") if isinstance(p, Product)]
        offers = [o for o in self._store.all("offer") if isinstance(o, Offer)]
        return CatalogSnapshot.of(products, offers, self._clock())

    def _refresh(self) -> None:
        try:
            self._snapshot = self._load()
        except Exception:  # keep serving the old catalog; the next request tries again
            log.exception("catalog refresh failed")
        finally:
            self._refreshing = False
