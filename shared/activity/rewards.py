"""Rewards from activity: an event that carries the `eventId` of a rank decision becomes a reward
through a configurable map (offer_click 0.2, add_to_cart 0.5, purchase 1.0 by default, the scheme
retail integrations use), sent down the same path as the reward route. Its reward id derives from
the activity id, so a redelivered activity event is the same reward (the join deduplicates)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DEFAULT_MAP = "offer_click=0.2,add_to_cart=0.5,purchase=1.0"


def parse_map(text: str) -> dict[str, float]:
    """`type=value,...`; ValueError with the offending part when malformed."""
    from shared.activity.events import TYPES

    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in TYPES:
            raise ValueError(f"ACTIVITY_REWARDS: {part!r} is not <activity type>=<reward>")
        reward = float(value)
        if not -1.0 <= reward <= 1.0:
            raise ValueError(f"ACTIVITY_REWARDS: {part!r}: rewards are in -1..1")
        out[name.strip()] = reward
    return out


def rewards_of(
    events: Iterable[dict[str, Any]], rewards: dict[str, float]
) -> list[tuple[str, float, str]]:
    """(eventId, value, reward id) for the events that reward a decision: one per decision per
    request, the highest (a page that posts view, click, cart and purchase together is one
    outcome, the purchase, not the click that `earliest` would otherwise keep)."""
    best: dict[str, tuple[float, str]] = {}
    for e in events:
        if e.get("eventId") and e["type"] in rewards:
            value = rewards[e["type"]]
            if e["eventId"] not in best or value > best[e["eventId"]][0]:
                best[str(e["eventId"])] = (value, f"activity-{e['id']}")
    return [(event_id, value, reward_id) for event_id, (value, reward_id) in best.items()]
