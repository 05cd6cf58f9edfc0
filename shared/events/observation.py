"""Observations of a decision, logged on the `rewards` hub: rewards and activations.

A reward carries its own id, so a redelivered reward is recognised and counted once; an activation
starts the reward window of a decision ranked with `deferActivation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.events.decision import EventFormatError


@dataclass(frozen=True, slots=True)
class RewardEvent:
    event_id: str
    reward_id: str
    value: float
    timestamp: float  # unix seconds

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "reward",
            "EventId": self.event_id,
            "id": self.reward_id,
            "v": self.value,
            "t": self.timestamp,
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> RewardEvent:
        try:
            return cls(str(wire["EventId"]), str(wire["id"]), float(wire["v"]), float(wire["t"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise EventFormatError(f"malformed reward event: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class ActivationEvent:
    event_id: str
    timestamp: float

    def to_wire(self) -> dict[str, Any]:
        return {"type": "activation", "EventId": self.event_id, "t": self.timestamp}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> ActivationEvent:
        try:
            return cls(str(wire["EventId"]), float(wire["t"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise EventFormatError(f"malformed activation event: {exc!r}") from exc


Observation = RewardEvent | ActivationEvent
