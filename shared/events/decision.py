"""The decision event: what rank served, logged once per rank on the `decisions` hub.

On the wire it uses Decision Service JSON (DSJSON) names: `EventId`, `Timestamp`, `a` (1-based
action indices, chosen first), `p` (their probabilities), `VWState.m` (model version),
`DeferredAction`. Context and actions travel as sent (`_context`, `_actions`: Personalizer
feature lists) because VW's JSON reader cannot take every Personalizer feature (arrays of
strings); `_fv` names the featurization (shared/features.py VERSION) they were served with, and
the archive (shared/dsjson.py) turns them into a `c` object VW reads as exactly the features
learned. Only the actions the policy chose among (not excluded) are logged; `_ids` are their ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import features

Features = list[dict[str, Any]]


class EventFormatError(ValueError):
    """A hub message that is not a well-formed event (it is parked, never learned)."""


def _iso_time(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


_last_second: list[tuple[int, str]] = [(0, _iso_time(0)[:-8])]


def iso_time(unix: float) -> str:
    """`2026-11-23T06:00:00.123456Z`. Every decision carries one: the date and time to the second
    are formatted once per second, the microseconds as datetime rounds them (half to even)."""
    fraction, whole = math.modf(unix)
    micro = round(fraction * 1e6)
    second = int(whole)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    if micro < 0 or second < 0:  # before 1970: not worth a fast path
        return _iso_time(unix)
    cached_second, prefix = _last_second[0]
    if cached_second != second:
        prefix = _iso_time(second)[:-8]
        _last_second[0] = (second, prefix)
    return f"{prefix}.{micro:06d}Z"


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    event_id: str
    timestamp: float  # unix seconds
    context: Features
    action_ids: list[str]  # the eligible actions, in request order
    action_features: list[Features]
    ranking: list[int]  # 0-based indices into the actions, served first
    probabilities: list[float]  # aligned with `ranking`, as logged (1.0 for the baseline modes)
    excluded: list[str]
    model_version: str
    learning_mode: str  # Online | Apprentice | LoggingOnly
    deferred: bool
    featurization: int = features.VERSION
    arm: str = ""  # the offers API's experiment arm ("personalized" | "control"); "" elsewhere
    group: str = ""  # a multi-slot rank's event id (this decision is one slot: `{group}#{slot}`)

    @property
    def chosen_index(self) -> int:
        """0-based index of the served action among `action_ids`."""
        return self.ranking[0]

    @property
    def chosen_probability(self) -> float:
        return self.probabilities[0]

    @property
    def learnable(self) -> bool:
        """LoggingOnly decisions are archived but never learned (Personalizer semantics)."""
        return self.learning_mode != "LoggingOnly"

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "decision",
            "EventId": self.event_id,
            "Timestamp": iso_time(self.timestamp),
            "Version": "1",
            "a": [i + 1 for i in self.ranking],
            "p": self.probabilities,
            "_context": self.context,
            "_actions": self.action_features,
            "VWState": {"m": self.model_version},
            "DeferredAction": self.deferred,
            "_ids": self.action_ids,
            "_excluded": self.excluded,
            "_mode": self.learning_mode,
            "_t": self.timestamp,
            "_fv": self.featurization,
            **({"_arm": self.arm} if self.arm else {}),
            **({"_group": self.group} if self.group else {}),
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> DecisionEvent:
        try:
            event = cls(
                event_id=str(wire["EventId"]),
                timestamp=float(wire["_t"]),
                context=list(wire["_context"]),
                action_ids=[str(i) for i in wire["_ids"]],
                action_features=list(wire["_actions"]),
                ranking=[int(a) - 1 for a in wire["a"]],
                probabilities=[float(p) for p in wire["p"]],
                excluded=[str(e) for e in wire.get("_excluded", [])],
                model_version=str(wire.get("VWState", {}).get("m", "0")),
                learning_mode=str(wire.get("_mode", "Online")),
                deferred=bool(wire.get("DeferredAction", False)),
                featurization=int(wire.get("_fv", 1)),  # events before `_fv` existed were v1
                arm=str(wire.get("_arm", "")),
                group=str(wire.get("_group", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EventFormatError(f"malformed decision event: {exc!r}") from exc
        if not event.ranking or len(event.ranking) != len(event.probabilities):
            raise EventFormatError("decision event: `a` and `p` must be non-empty and aligned")
        if len(event.action_ids) != len(event.action_features):
            raise EventFormatError("decision event: `_ids` and `_actions` differ in length")
        return event
