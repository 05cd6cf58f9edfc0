"""Insights over the activity aggregates: stats, profiles, also-bought, bundles, the sales rep's
recommendations and lapsed products, and erasure (shared/activity/)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from functions.http_io import error_responses, json_response
from shared import wiring
from shared.activity import insights
from shared.errors import bad_request, not_found

router = APIRouter(tags=["insights"])
UserId = Path(min_length=1, max_length=128)
SORTS = ("views", "clicks", "carts", "purchases", "revenue", "ctr", "conversion")


def sort_query(default: str) -> Any:
    """`sort`, checked by _stats (its message); the enum tells the document the same."""
    return Query(default, json_schema_extra={"enum": list(SORTS)})


def _profile_or_404(user_id: str) -> dict[str, Any]:
    doc = wiring.current().activity_store.profile(user_id)
    if doc is None:
        raise not_found(f"no activity for user {user_id!r}", code="UserNotFound")
    return {k: v for k, v in doc.items() if not k.startswith("_") and k != "appliedBatches"}


def _stats(subject: str, hours: int, granularity: str, sort: str) -> Response:
    if sort not in SORTS:
        raise bad_request(f"sort must be one of {SORTS}", target="sort")
    now = datetime.now(UTC)
    fmt, g = ("%Y%m%d%H", "h") if granularity == "hour" else ("%Y%m%d", "d")
    start = (now - timedelta(hours=hours)).strftime(fmt)
    end = (now + timedelta(hours=1 if g == "h" else 24)).strftime(fmt)
    rows: dict[str, dict[str, Any]] = {}
    buckets: list[dict[str, Any]] = []
    for doc in wiring.current().activity_store.series(subject, g, start, end):
        item = doc["pk"].split("|", 1)[1]
        bucket = doc["id"][len(doc["pk"]) + 3 :]
        counts = {k: doc.get(k, 0) for k in ("views", "clicks", "carts", "purchases", "revenue")}
        buckets.append({"id": item, "bucket": bucket, **counts})
        total = rows.setdefault(item, {"id": item, **dict.fromkeys(counts, 0)})
        for k, v in counts.items():
            total[k] += v
    for row in rows.values():
        row["ctr"] = round(row["clicks"] / row["views"], 4) if row["views"] else None
        row["conversion"] = round(row["purchases"] / row["clicks"], 4) if row["clicks"] else None
    ordered = sorted(rows.values(), key=lambda r: (-(r[sort] or 0), r["id"]))
    return json_response(
        {
            "granularity": granularity,
            "hours": hours,
            "items": ordered,
            "series": sorted(buckets, key=lambda b: (b["id"], b["bucket"])),
        }
    )


@router.get("/stats/offers", summary="Per-offer impressions, CTR, conversion, revenue",
            responses=error_responses(400))  # fmt: skip
def offer_stats(
    hours: int = Query(24, ge=1, le=24 * 90),
    granularity: Literal["hour", "day"] = "hour",
    sort: str = sort_query("clicks"),
) -> Response:
    return _stats("offer", hours, granularity, sort)


@router.get("/stats/products", summary="Per-product views, carts, purchases, revenue",
            responses=error_responses(400))  # fmt: skip
def product_stats(
    hours: int = Query(24, ge=1, le=24 * 90),
    granularity: Literal["hour", "day"] = "hour",
    sort: str = sort_query("purchases"),
) -> Response:
    return _stats("product", hours, granularity, sort)


@router.get("/users/{userId}/profile", summary="A shopper's profile",
            responses=error_responses(404))  # fmt: skip
def profile(userId: str = UserId) -> Response:
    return json_response(_profile_or_404(userId))


@router.get("/products/{productId}/also-bought", summary="Others who bought this also bought",
            responses=error_responses(400))  # fmt: skip
def also_bought(productId: str = Path(min_length=1, max_length=128),
                n: int = Query(5, ge=1, le=50)) -> Response:  # fmt: skip
    rows = wiring.current().activity_store.also_bought(productId, n)
    return json_response({"productId": productId, "items": rows})


@router.get("/bundles", summary="Frequently bought together, with support and lift",
            responses=error_responses(400))  # fmt: skip
def bundles(n: int = Query(10, ge=1, le=100)) -> Response:
    return json_response({"items": insights.bundles(wiring.current().activity_store, n)})


@router.get("/users/{userId}/recommendations", summary="What to pitch to this customer",
            responses=error_responses(404))  # fmt: skip
def recommendations(userId: str = UserId, n: int = Query(5, ge=1, le=50)) -> Response:
    doc = _profile_or_404(userId)
    items = insights.recommendations(wiring.current().activity_store, doc, n)
    return json_response({"userId": userId, "items": items})


@router.get("/users/{userId}/lapsed", summary="Recurring products the customer is overdue for",
            responses=error_responses(404))  # fmt: skip
def lapsed(userId: str = UserId) -> Response:
    doc = _profile_or_404(userId)
    return json_response({"userId": userId, "items": insights.lapsed(doc, time.time())})


@router.delete("/users/{userId}", status_code=204, summary="Erase everything stored about a user",
               responses=error_responses(404))  # fmt: skip
def erase(userId: str = UserId) -> Response:
    if not wiring.current().activity_store.delete_user(userId):
        raise not_found(f"no activity for user {userId!r}", code="UserNotFound")
    return Response(status_code=204)
