"""The one place hub events are serialised: typed event <-> JSON bytes, told apart by `type`."""

from __future__ import annotations

from typing import Any

import orjson

from shared.events.decision import DecisionEvent, EventFormatError
from shared.events.observation import ActivationEvent, RewardEvent

HubEvent = DecisionEvent | RewardEvent | ActivationEvent

_READERS: dict[str, Any] = {
    "decision": DecisionEvent.from_wire,
    "reward": RewardEvent.from_wire,
    "activation": ActivationEvent.from_wire,
}


def encode(event: HubEvent) -> bytes:
    return orjson.dumps(event.to_wire())


def decode(body: bytes | str) -> HubEvent:
    """Raises EventFormatError for anything that is not a well-formed event."""
    try:
        wire = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EventFormatError(f"not JSON: {exc}") from exc
    if not isinstance(wire, dict) or not isinstance(wire.get("EventId"), str):
        raise EventFormatError("event has no EventId")
    kind = wire.get("type", "decision")  # decisions logged before `type` existed had none
    reader = _READERS.get(kind)
    if reader is None:
        raise EventFormatError(f"unknown event type {kind!r}")
    event: HubEvent = reader(wire)
    return event
