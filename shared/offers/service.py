"""POST /api/offers: eligibility -> candidates -> features -> rank -> answer.

One Cosmos read at most on the request path (the shopper's profile, under a timeout that falls
back to the cold-start path); the catalog and the popularity lists come from memory. The decision
is ranked and logged by the same engine as the Personalizer routes, so rewards (the reward route,
or activity events carrying the eventId) are joined and learned the same way.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.catalog.cache import CatalogCache
from shared.contracts import RankableAction, RankRequest
from shared.errors import ApiError
from shared.offers import arms, explain
from shared.offers.candidates import Candidate, candidates
from shared.offers.eligibility import eligible
from shared.offers.features import context_features, offer_features
from shared.offers.request import OffersRequest
from shared.offers.signals import ShopperProfile, ShopperSignals
from shared.ranker import Ranker
from shared.settings import Settings

log = logging.getLogger(__name__)
PROFILE_CACHE_SIZE = 50_000
_profiles = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="profile")


class OffersService:
    def __init__(
        self,
        catalog: CatalogCache,
        signals: ShopperSignals,
        ranker: Ranker,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._catalog = catalog
        self._signals = signals
        self._ranker = ranker
        self._settings = settings
        self._clock = clock
        # user id -> (read at, profile or None): a visitor's page views come in bursts (home,
        # product, cart within seconds), so one read serves the burst. Failed reads and unknown
        # visitors are not kept.
        self._profiles: dict[str, tuple[float, ShopperProfile | None]] = {}

    def profile(self, user_id: str | None) -> tuple[ShopperProfile | None, bool]:
        """The shopper's profile, or None (unknown, or not read in time: cold start)."""
        if not user_id:
            return None, False
        now = time.monotonic()
        ttl = self._settings.profile_cache_seconds
        hit = self._profiles.get(user_id)
        if hit is not None and now - hit[0] < ttl:
            return hit[1], False
        future = _profiles.submit(self._signals.profile, user_id)
        try:
            profile = future.result(timeout=self._settings.profile_timeout_ms / 1000)
            if ttl > 0 and profile is not None:  # a new visitor's profile may appear any moment
                if len(self._profiles) >= PROFILE_CACHE_SIZE:
                    self._profiles.clear()  # crude but bounded; a burst costs one read again
                self._profiles[user_id] = (now, profile)
            return profile, False
        except concurrent.futures.TimeoutError:
            log.warning("profile read for %s timed out: cold start", user_id)
            return None, True
        except Exception:
            log.exception("profile read for %s failed: cold start", user_id)
            return None, True

    def offers(self, request: OffersRequest) -> dict[str, Any]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        snapshot = self._catalog.snapshot()
        profile, degraded = self.profile(request.userId)
        segment = request.segment(profile.segment if profile else None)
        allowed = eligible(
            snapshot.offers,
            now,
            segment,
            profile,
            self._signals.conversions([o.id for o in snapshot.offers if o.cap is not None]),
            timedelta(days=self._settings.offers_dismiss_days),
        )
        if not allowed:
            raise ApiError(404, "NoEligibleOffers", "no offer is eligible for this visit")
        current = [request.productId] if request.productId else []
        current += request.cartProductIds
        popular = self._signals.popular_offers(segment, 50)
        also = self._signals.also_bought(current, 20) if current else []
        found = candidates(allowed, snapshot.products, profile, current, popular, also, now)
        arm = arms.arm(request.visitor(), self._settings.offers_control_percent)
        if arm == arms.CONTROL:
            found = _control_order(found, popular)
        rank_request = RankRequest(
            contextFeatures=context_features(request, profile, segment),
            actions=[
                RankableAction(id=c.offer.id, features=offer_features(c.offer, c.reasons))
                for c in found
            ],
            eventId=request.eventId,
        )
        outcome = self._ranker.rank(
            rank_request, learning_mode="LoggingOnly" if arm == arms.CONTROL else None, arm=arm
        )
        by_id = {c.offer.id: c for c in found}
        version = outcome.decision.model_version
        ranking = outcome.response["ranking"]
        if arm == arms.CONTROL:  # every position in the control order, not only the first
            ranking = [
                {"id": c.offer.id, "probability": float(i == 0)} for i, c in enumerate(found)
            ]
        answer = []
        for position, ranked in enumerate(ranking[: request.count]):
            candidate = by_id[ranked["id"]]
            offer = candidate.offer
            answer.append(
                {
                    "offerId": offer.id,
                    "title": offer.title,
                    "description": offer.description,
                    "discount": offer.discount,
                    "price": offer.price,
                    "category": offer.category,
                    "brand": offer.brand,
                    "productIds": offer.productIds,
                    "probability": ranked["probability"],
                    "explanation": {
                        "candidate": explain.candidate_reasons(
                            candidate.reasons, snapshot.products
                        ),
                        "rank": explain.rank_reason(arm, position, ranked["probability"], version),
                    },
                }
            )
        return {
            "eventId": outcome.response["eventId"],
            "arm": arm,
            "segment": segment or None,
            "coldStart": profile is None,
            "profileUnavailable": degraded,
            "modelVersion": version,
            "offers": answer,
        }


def _control_order(found: list[Candidate], popular: list[str]) -> list[Candidate]:
    """The non-personalized choice: popular in the segment first, then priority (same rules)."""
    rank = {offer_id: i for i, offer_id in enumerate(popular)}
    return sorted(
        found, key=lambda c: (rank.get(c.offer.id, 10_000), -c.offer.priority, c.offer.id)
    )
