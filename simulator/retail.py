"""The retail world: shoppers in segments with hidden tastes over the demo catalog's offers.

Hidden affinity of a shopper for an offer, in a context:
- the segment's taste for the offer's category (one favourite per segment), and a category that
  sells at each time of day (whatever the segment): the best offer depends on who and when, and
  each effect is one pair of features a contextual bandit with pairwise interactions can learn;
- a seasonal category (every segment), a device effect on price (mobile shoppers prefer cheap
  offers, desktop ones can afford more), and discount sensitivity that rises when the shopper came
  from email or search;
- the product's rating, and a small per-shopper taste per category (individuals differ).
The funnel (view -> click -> add to cart -> purchase) follows the affinity. With drift, every
segment takes the next segment's favourite and the times of day swap theirs (morning with
evening, afternoon with night): the best offer changes for most contexts at once, so recovery is
measurable.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.world import SimVisit, World, rng_for

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "shared" / "demo" / "catalog.json"
DEFAULT_SEGMENTS = ("bargain-hunter", "family", "tech-enthusiast", "style-seeker")
TIMES = ("morning", "afternoon", "evening", "night")
DEVICES = (("mobile", 0.55), ("desktop", 0.35), ("tablet", 0.10))
REFERRALS = (("direct", 0.35), ("search", 0.30), ("social", 0.20), ("email", 0.15))
SEASONS = ("winter", "spring", "summer", "autumn")
USERS_PER_SEGMENT = 400  # visitors map onto a population of known shoppers
SEGMENT_TASTE = 2.2  # affinity added for the segment's favourite category
TIME_TASTE = 2.0  # ... and for the category that sells at this time of day


@dataclass(frozen=True)
class RetailOffer:
    id: str
    product_id: str
    category: str
    brand: str
    price: float
    discount: float  # fraction 0..1
    rating: float
    segments: tuple[str, ...]  # empty: every segment


def load_catalog(path: Path | str = DEMO_CATALOG) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"catalog {path} is missing (the demo catalog: {DEMO_CATALOG})")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _discount(offer: dict[str, Any]) -> float:
    raw = offer.get("discount") or offer.get("discountPercent") or 0
    if isinstance(raw, dict):  # {"type": "percent", "value": 10}
        raw = raw.get("value") or raw.get("percent") or 0
    value = float(raw)
    return value / 100 if value > 1 else value


def _active(offer: dict[str, Any], now: datetime) -> bool:
    if offer.get("active") is False:
        return False
    for key, sign in (("startDate", 1), ("endDate", -1)):
        text = offer.get(key) or offer.get(key.replace("Date", "s"))
        if not text:
            continue
        try:
            when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if (when - now).total_seconds() * sign > 0:  # not started yet, or already ended
            return False
    return True


def parse_offers(catalog: dict[str, Any], now: datetime | None = None) -> list[RetailOffer]:
    """The catalog's active offers with what the hidden model reads (their first product's)."""
    now = now or datetime.now(UTC)
    products = {str(p["id"]): p for p in catalog.get("products", [])}
    offers = []
    for raw in catalog.get("offers", []):
        if not _active(raw, now):
            continue
        ids = [str(i) for i in raw.get("productIds") or []]
        product: dict[str, Any] = next((products[i] for i in ids if i in products), {})
        offers.append(
            RetailOffer(
                id=str(raw["id"]),
                product_id=str(product.get("id") or (ids[0] if ids else "")),
                category=str(raw.get("category") or product.get("category") or "general"),
                brand=str(raw.get("brand") or product.get("brand") or "generic"),
                price=float(raw.get("price") or product.get("price") or 20.0),
                discount=_discount(raw),
                rating=float(product.get("rating") or raw.get("rating") or 4.0),
                segments=tuple(str(s) for s in raw.get("segments") or ()),
            )
        )
    if len(offers) < 2:
        raise ValueError("the retail world needs at least two active offers in the catalog")
    return sorted(offers, key=lambda o: o.id)


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def price_band(price: float) -> str:
    return "low" if price < 25 else "mid" if price < 100 else "high" if price < 400 else "premium"


def discount_band(discount: float) -> str:
    return "none" if discount <= 0 else "small" if discount < 0.15 else "big"


class RetailWorld(World):
    name = "retail"
    pages_per_session = 3
    channel = "offers"

    def __init__(
        self,
        seed: int,
        drift_at: int = 0,
        catalog: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__(seed, drift_at)
        self.offers = parse_offers(catalog if catalog is not None else load_catalog(), now)
        self.by_id = {o.id: o for o in self.offers}
        self.categories = sorted({o.category for o in self.offers})
        named = sorted({s for o in self.offers for s in o.segments})
        self.segments = tuple(named) or DEFAULT_SEGMENTS
        prices = sorted(o.price for o in self.offers)
        self.median_price = prices[len(prices) // 2]
        self._build_tastes()

    def _build_tastes(self) -> None:
        rng = rng_for(self.seed, "tastes")
        self.base = {(s, c): rng.gauss(-1.0, 0.4) for s in self.segments for c in self.categories}
        self.favourites: dict[str, str] = {}
        for segment in self.segments:
            # among the categories this segment can be offered, so its favourite offer exists;
            # segments differ while categories last (shared favourites would need no context)
            own = sorted({o.category for o in self.offers if self._eligible(o, segment)})
            fresh = [c for c in own if c not in self.favourites.values()]
            self.favourites[segment] = rng.choice(fresh or own)
        shuffled = rng.sample(self.categories, len(self.categories))
        self.daypart = {t: shuffled[i % len(shuffled)] for i, t in enumerate(TIMES)}
        self.seasonal = {season: rng.choice(self.categories) for season in SEASONS}

    @staticmethod
    def _eligible(offer: RetailOffer, segment: str) -> bool:
        return not offer.segments or segment in offer.segments

    # --- visits --------------------------------------------------------------------------------
    def visit(self, visitor: int, session: int, page: int, ordinal: int) -> SimVisit:
        who = rng_for(self.seed, "visitor", visitor)
        segment = who.choice(self.segments)
        user = f"shopper-{self.seed}-{segment}-{who.randrange(USERS_PER_SEGMENT)}"
        ctx = rng_for(self.seed, "session", visitor, session)
        context = {
            "segment": segment,
            "timeOfDay": ctx.choice(TIMES),
            "device": _weighted(ctx, DEVICES),
            "referral": _weighted(ctx, REFERRALS),
            "season": ctx.choice(SEASONS),
        }
        return SimVisit(
            visitor=visitor,
            session=session,
            page=page,
            ordinal=ordinal,
            user_id=user,
            segment=segment,
            context=context,
            epoch=self.epoch(ordinal),
        )

    def actions(self, visit: SimVisit) -> list[str]:
        return [o.id for o in self.offers if self._eligible(o, visit.segment)]

    # --- the hidden model ----------------------------------------------------------------------
    def _favourites(self, segment: str, time_of_day: str, epoch: int) -> tuple[str, str]:
        """The segment's favourite category and the time of day's, in this taste epoch."""
        if epoch % 2:  # drift: the next segment's, and the time of day twelve hours away
            index = self.segments.index(segment)
            segment = self.segments[(index + 1) % len(self.segments)]
            time_of_day = TIMES[(TIMES.index(time_of_day) + 2) % len(TIMES)]
        return self.favourites[segment], self.daypart[time_of_day]

    def affinity(self, visit: SimVisit, offer: RetailOffer) -> float:
        ctx = visit.context
        score = self.base.get((visit.segment, offer.category), -1.0)
        liked, timely = self._favourites(visit.segment, ctx["timeOfDay"], visit.epoch)
        score += SEGMENT_TASTE * (offer.category == liked) + TIME_TASTE * (offer.category == timely)
        if offer.category == self.seasonal[ctx["season"]]:
            score += 0.8
        cheap = offer.price * (1 - offer.discount) <= self.median_price
        if ctx["device"] == "mobile":
            score += 0.6 if cheap else -0.6
        elif ctx["device"] == "desktop" and not cheap:
            score += 0.3
        sensitivity = 4.0 if ctx["referral"] in ("email", "search") else 1.0
        score += sensitivity * offer.discount
        score += 0.4 * (offer.rating - 4.0)
        score += rng_for(self.seed, "taste", visit.user_id, offer.category).gauss(0.0, 0.3)
        return score

    def funnel(self, visit: SimVisit, action_id: str) -> tuple[float, float, float]:
        """P(click | view), P(cart | click), P(purchase | cart)."""
        offer = self.by_id.get(action_id)
        if offer is None:
            return 0.0, 0.0, 0.0
        a = self.affinity(visit, offer)
        return _sigmoid(1.5 * a - 2.5), _sigmoid(a - 1.0), _sigmoid(a)

    def expected_reward(self, visit: SimVisit, action_id: str) -> float:
        click, cart, buy = self.funnel(visit, action_id)
        v = self.stage_values
        return click * (
            (1 - cart) * v["offer_click"]
            + cart * ((1 - buy) * v["add_to_cart"] + buy * v["purchase"])
        )

    def react(self, visit: SimVisit, action_id: str, rng: random.Random) -> Any:
        click, cart, buy = self.funnel(visit, action_id)
        stages: list[str] = []
        for stage, p in (("offer_click", click), ("add_to_cart", cart), ("purchase", buy)):
            if rng.random() >= p:
                break
            stages.append(stage)
        return self.reaction(tuple(stages))

    # --- what the website sends ----------------------------------------------------------------
    def offer_features(self, offer: RetailOffer) -> dict[str, Any]:
        return {
            "category": offer.category,
            "brand": offer.brand,
            "priceBand": price_band(offer.price),
            "discountBand": discount_band(offer.discount),
        }

    def rank_request(self, visit: SimVisit, event_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "contextFeatures": [{"Shopper": dict(visit.context)}],
            "actions": [
                {"id": a, "features": [{"Offer": self.offer_features(self.by_id[a])}]}
                for a in self.actions(visit)
            ],
        }
        if event_id:
            body["eventId"] = event_id
        return body

    def activity_details(self, action_id: str) -> dict[str, Any]:
        offer = self.by_id.get(action_id)
        if offer is None:
            return {}
        details: dict[str, Any] = {"price": round(offer.price * (1 - offer.discount), 2)}
        if offer.product_id:
            details["productId"] = offer.product_id
        return details

    def offers_request(self, visit: SimVisit) -> dict[str, Any]:
        return {
            "userId": visit.user_id,
            "sessionId": f"{visit.user_id}-s{visit.visitor}-{visit.session}",
            "placement": "homepage",
            "context": dict(visit.context),
            "count": 1,
        }
