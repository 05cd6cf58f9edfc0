"""Pre-aggregation of one delivered batch, pure: events in, one delta per Cosmos document out.

Writes then scale with the distinct keys a batch touches, not with its events. Documents:

`aggregates` (partition key /pk; each query below reads one partition, or one kind):
- `offer|<id>` and `product|<id>`: counters per hour (`h|yyyymmddHH`), per day (`d|yyyymmdd`) and
  in total (`t`): views, clicks, carts, purchases, dismissals, revenue — stats and caps read them;
- `popular|<segment>` (and `popular|all`): one document per offer with a score (clicks 1,
  carts 2, purchases 4, over all time) — the cold-start list;
- `pair|<productId>`: one document per co-occurring product, bought (same session's carts and
  purchases in the batch) and viewed together — also-bought and bundles;
- `baskets|all`: the number of baskets seen — the denominator of a bundle's support and lift.
`profiles` (partition key /userId): one document per shopper (see `ProfileDelta`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

COUNTERS = {
    "offer_view": "views",
    "product_view": "views",
    "offer_click": "clicks",
    "add_to_cart": "carts",
    "purchase": "purchases",
    "offer_dismiss": "dismissals",
}
POPULARITY = {"offer_click": 1.0, "add_to_cart": 2.0, "purchase": 4.0}
AFFINITY = {"product_view": 1.0, "offer_click": 2.0, "add_to_cart": 3.0, "purchase": 5.0}
RECENT_VIEWS = 20
PURCHASE_DATES = 20

# (product id) -> (category, brand) when the catalog knows the product
ProductInfo = Callable[[str], tuple[str, str] | None]


@dataclass
class ProfileDelta:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spend: float = 0.0
    categories: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    brands: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    views: list[tuple[float, str]] = field(default_factory=list)
    purchases: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    offers: dict[str, dict[str, float]] = field(default_factory=dict)
    segment: str = ""  # the latest by event time, so the order batches arrive in does not matter
    segment_at: float = 0.0
    last_seen: float = 0.0


@dataclass
class BatchDeltas:
    counters: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (pk, id)
    profiles: dict[str, ProfileDelta] = field(default_factory=dict)

    def add(self, pk: str, doc_id: str, name: str, amount: float) -> None:
        self.counters.setdefault((pk, doc_id), defaultdict(float))[name] += amount


def _buckets(t: float) -> tuple[str, str]:
    when = datetime.fromtimestamp(t, UTC)
    return when.strftime("h|%Y%m%d%H"), when.strftime("d|%Y%m%d")


def aggregate(events: Iterable[dict[str, Any]], product_info: ProductInfo) -> BatchDeltas:
    out = BatchDeltas()
    baskets: dict[str, set[str]] = defaultdict(set)
    viewed: dict[str, set[str]] = defaultdict(set)
    for e in events:
        kind, t = e["type"], float(e["t"])
        counter = COUNTERS.get(kind)
        revenue = (
            float(e.get("price") or 0.0) * int(e.get("quantity") or 1)
            if kind == "purchase"
            else 0.0
        )
        hour, day = _buckets(t)
        subjects = []
        if e.get("offerId") and kind != "product_view":
            subjects.append(f"offer|{e['offerId']}")
        if e.get("productId") and kind not in ("offer_view", "offer_dismiss"):
            subjects.append(f"product|{e['productId']}")
        for pk in subjects:
            for doc_id in (f"{pk}|{hour}", f"{pk}|{day}", f"{pk}|t"):
                if counter:
                    out.add(pk, doc_id, counter, 1)
                if revenue:
                    out.add(pk, doc_id, "revenue", revenue)
        segment = str((e.get("context") or {}).get("segment") or "")
        if e.get("offerId") and kind in POPULARITY:
            for seg in {"all", segment or "all"}:
                out.add(
                    f"popular|{seg}", f"popular|{seg}|{e['offerId']}", "score", POPULARITY[kind]
                )
        session = str(e.get("sessionId") or e["userId"])
        if e.get("productId"):
            if kind in ("add_to_cart", "purchase"):
                baskets[session].add(str(e["productId"]))
            if kind == "product_view":
                viewed[session].add(str(e["productId"]))
        _profile(out.profiles.setdefault(str(e["userId"]), ProfileDelta()), e, t, segment,
                 revenue, product_info)  # fmt: skip
    for name, groups in (("bought", baskets), ("viewed", viewed)):
        for items in groups.values():
            if name == "bought" and items:
                out.add("baskets|all", "baskets|all", "baskets", 1)
            for a, b in combinations(sorted(items), 2):
                out.add(f"pair|{a}", f"pair|{a}|{b}", name, 1)
                out.add(f"pair|{b}", f"pair|{b}|{a}", name, 1)
    return out


def _profile(
    p: ProfileDelta,
    e: dict[str, Any],
    t: float,
    segment: str,
    revenue: float,
    product_info: ProductInfo,
) -> None:
    kind = e["type"]
    p.counts[kind] += 1
    p.last_seen = max(p.last_seen, t)
    if segment and t >= p.segment_at:
        p.segment, p.segment_at = segment, t
    p.spend += revenue
    product = e.get("productId")
    info = product_info(str(product)) if product else None
    if info and kind in AFFINITY:
        category, brand = info
        p.categories[category] += AFFINITY[kind]
        if brand:
            p.brands[brand] += AFFINITY[kind]
    if product and kind == "product_view":
        p.views.append((t, str(product)))
    if product and kind == "purchase":
        p.purchases[str(product)].append(t)
    offer = e.get("offerId")
    if offer:
        state = p.offers.setdefault(str(offer), {})
        if kind == "offer_view":
            state["views"] = state.get("views", 0) + 1
        elif kind == "offer_click":
            state["clicks"] = state.get("clicks", 0) + 1
            state["lastClickAt"] = max(state.get("lastClickAt", 0.0), t)
        elif kind == "purchase":
            state["convertedAt"] = max(state.get("convertedAt", 0.0), t)
        elif kind == "offer_dismiss":
            state["dismissedAt"] = max(state.get("dismissedAt", 0.0), t)


def spend_band(total: float) -> str:
    return "none" if total <= 0 else "low" if total < 100 else "mid" if total < 500 else "high"


def merge_profile(doc: dict[str, Any], delta: ProfileDelta) -> dict[str, Any]:
    """The profile document with one batch's delta applied (pure; the store guards repeats)."""
    counts = dict(doc.get("counts", {}))
    for k, v in delta.counts.items():
        counts[k] = counts.get(k, 0) + v
    categories: dict[str, float] = dict(doc.get("categories", {}))
    for name, score in delta.categories.items():
        categories[name] = round(categories.get(name, 0.0) + score, 6)
    brands: dict[str, float] = dict(doc.get("brands", {}))
    for name, score in delta.brands.items():
        brands[name] = round(brands.get(name, 0.0) + score, 6)
    views = sorted([*map(tuple, doc.get("recentViews", [])), *delta.views])[-RECENT_VIEWS:]
    purchases = {k: list(v) for k, v in doc.get("purchases", {}).items()}
    for k, times in delta.purchases.items():
        purchases[k] = sorted({*purchases.get(k, []), *times})[-PURCHASE_DATES:]
    offers = {k: dict(v) for k, v in doc.get("offers", {}).items()}
    for k, state in delta.offers.items():
        merged = offers.setdefault(k, {})
        for name, value in state.items():
            if name in ("views", "clicks"):
                merged[name] = merged.get(name, 0) + value
            else:
                merged[name] = max(merged.get(name, 0.0), value)
    spend = round(float(doc.get("spend", 0.0)) + delta.spend, 2)
    return {
        **doc,
        "counts": counts,
        "categories": categories,
        "brands": brands,
        "recentViews": [list(v) for v in views],
        "purchases": purchases,
        "offers": offers,
        "spend": spend,
        "spendBand": spend_band(spend),
        **_latest_segment(doc, delta),
        "lastSeen": max(float(doc.get("lastSeen", 0.0)), delta.last_seen),
    }


def _latest_segment(doc: dict[str, Any], delta: ProfileDelta) -> dict[str, Any]:
    if delta.segment and delta.segment_at >= float(doc.get("segmentAt", 0.0)):
        return {"segment": delta.segment, "segmentAt": delta.segment_at}
    return {"segment": doc.get("segment", ""), "segmentAt": float(doc.get("segmentAt", 0.0))}
