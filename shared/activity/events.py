"""Activity events as a storefront sends them, validated item by item.

A batch is answered per item: valid ones are accepted, each rejected one is reported with its
index and reason. Ids are assigned when absent from a hash of the event's content, so the same
event sent twice (a retried request) keeps its id and is recognised downstream.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

TYPES = (
    "page_view",
    "product_view",
    "offer_view",
    "offer_click",
    "add_to_cart",
    "purchase",
    "offer_dismiss",
)
MAX_BATCH = 500
MAX_FUTURE_SECONDS = 300.0  # clocks differ a little; events from the future are rejected beyond
ContextValue = str | int | float | bool


class ActivityEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=128)
    type: Literal[
        "page_view",
        "product_view",
        "offer_view",
        "offer_click",
        "add_to_cart",
        "purchase",
        "offer_dismiss",
    ]
    userId: str = Field(min_length=1, max_length=128)
    sessionId: str | None = Field(default=None, min_length=1, max_length=128)
    productId: str | None = Field(default=None, min_length=1, max_length=128)
    offerId: str | None = Field(default=None, min_length=1, max_length=128)
    eventId: str | None = Field(default=None, min_length=1, max_length=256)
    value: float | None = None
    quantity: int | None = Field(default=None, ge=0, le=10_000)
    price: float | None = Field(default=None, ge=0)
    timestamp: datetime | None = None
    context: dict[str, ContextValue] = Field(default_factory=dict, max_length=30)


def _reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def to_wire(event: ActivityEvent, now: float) -> dict[str, Any]:
    """The hub form: compact, with unix time `t`, and an id (content hash when absent)."""
    t = event.timestamp.timestamp() if event.timestamp else now
    wire: dict[str, Any] = {"type": event.type, "userId": event.userId, "t": round(t, 3)}
    for key in ("sessionId", "productId", "offerId", "eventId", "value", "quantity", "price"):
        value = getattr(event, key)
        if value is not None:
            wire[key] = value
    if event.context:
        wire["context"] = event.context
    wire["id"] = (
        event.id or hashlib.sha256(orjson.dumps(wire, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
    )
    return wire


def validate_batch(
    items: list[Any], now: float | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accepted events in wire form, [{index, reason}] for the rejected ones)."""
    now = time.time() if now is None else now
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": index, "reason": "an event must be a JSON object"})
            continue
        try:
            event = ActivityEvent.model_validate(item)
        except ValidationError as exc:
            rejected.append({"index": index, "reason": _reason(exc)})
            continue
        if event.timestamp and event.timestamp.timestamp() > now + MAX_FUTURE_SECONDS:
            rejected.append({"index": index, "reason": "timestamp: in the future"})
            continue
        if event.type in ("offer_view", "offer_click", "offer_dismiss") and not event.offerId:
            rejected.append({"index": index, "reason": f"offerId: required for {event.type}"})
            continue
        if event.type in ("product_view", "add_to_cart", "purchase") and not (
            event.productId or event.offerId
        ):
            rejected.append({"index": index, "reason": f"productId: required for {event.type}"})
            continue
        accepted.append(to_wire(event, now))
    return accepted, rejected


def decode(body: bytes) -> dict[str, Any]:
    """A hub message back into its wire form (ValueError when it is not one)."""
    wire = orjson.loads(body)
    if not isinstance(wire, dict) or wire.get("type") not in TYPES or not wire.get("userId"):
        raise ValueError("not an activity event")
    if not isinstance(wire.get("t"), int | float) or not wire.get("id"):
        raise ValueError("activity event without time or id")
    return wire
