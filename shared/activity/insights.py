"""What the insights API answers, computed from the profile and aggregate documents."""

from __future__ import annotations

import itertools
import statistics
from datetime import UTC, datetime
from typing import Any

from shared.activity.store import ActivityStore

LAPSED_MIN_PURCHASES = 3
LAPSED_FACTOR = 1.5  # overdue when the gap since the last purchase exceeds 1.5x the usual one


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def lapsed(profile: dict[str, Any], now: float) -> list[dict[str, Any]]:
    """Products the customer bought regularly and is now overdue for, from their own intervals."""
    out = []
    for product, times in profile.get("purchases", {}).items():
        times = sorted(float(t) for t in times)
        if len(times) < LAPSED_MIN_PURCHASES:
            continue
        usual = statistics.median(b - a for a, b in itertools.pairwise(times))
        if usual <= 0:
            continue
        since = now - times[-1]
        if since > LAPSED_FACTOR * usual:
            out.append(
                {
                    "productId": product,
                    "purchases": len(times),
                    "usualIntervalDays": round(usual / 86_400, 1),
                    "lastPurchase": _iso(times[-1]),
                    "expectedBy": _iso(times[-1] + usual),
                    "overdueDays": round((since - usual) / 86_400, 1),
                }
            )
    return sorted(out, key=lambda x: -x["overdueDays"])


def bundles(store: ActivityStore, limit: int) -> list[dict[str, Any]]:
    """Frequently bought together: pairs with support (share of baskets) and lift."""
    baskets = store.baskets()
    pairs = store.top_pairs(limit)
    if not baskets or not pairs:
        return []
    products = {p for pair in pairs for p in (pair["a"], pair["b"])}
    bought = {k: float(v.get("purchases", 0) + v.get("carts", 0)) for k, v in
              store.totals("product", sorted(products)).items()}  # fmt: skip
    out = []
    for pair in pairs:
        support = pair["bought"] / baskets
        pa, pb = bought.get(pair["a"], 0.0) / baskets, bought.get(pair["b"], 0.0) / baskets
        out.append(
            {
                "products": [pair["a"], pair["b"]],
                "baskets": pair["bought"],
                "support": round(support, 4),
                "lift": round(support / (pa * pb), 2) if pa and pb else None,
            }
        )
    return out


def recommendations(store: ActivityStore, profile: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Top-N products for a known customer: bought with what they bought or viewed, excluding
    what they already bought — the sales rep's "what to pitch" list, with the reason."""
    bought = set(profile.get("purchases", {}))
    seeds = list(bought) + [p for _, p in reversed(profile.get("recentViews", []))]
    scores: dict[str, float] = {}
    because: dict[str, str] = {}
    for rank, seed in enumerate(dict.fromkeys(seeds)):
        weight = 2.0 if seed in bought else 1.0 / (1 + rank)
        for row in store.also_bought(seed, 10):
            product = row["productId"]
            if product in bought:
                continue
            scores[product] = scores.get(product, 0.0) + weight * row["bought"]
            because.setdefault(product, seed)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [
        {"productId": p, "score": round(s, 3), "reason": f"bought with {because[p]}"}
        for p, s in ranked
    ]
