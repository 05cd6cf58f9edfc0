"""Events on the hubs: decisions (one per rank) and reward/activation observations.

A decision event uses Decision Service JSON (DSJSON) names: `EventId`, `Timestamp`, `a` (1-based
action indices, chosen first), `p` (their probabilities), `VWState.m` (model version),
`DeferredAction`. Context and actions travel as sent (`_context`, `_actions`: Personalizer feature
lists) because VW's JSON reader cannot take every Personalizer feature (arrays of strings); the
archive (shared/dsjson.py) turns them into a `c` object VW reads as exactly the features we learn.
Only the actions the policy chose among (not excluded) are logged; `_ids` are their ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

Event = dict[str, Any]


def iso_time(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def decision_event(
    *,
    event_id: str,
    timestamp: float,
    context: list[dict[str, Any]],
    actions: list[tuple[str, list[dict[str, Any]]]],
    ranking: list[int],
    probabilities: list[float],
    excluded: list[str],
    model_version: str,
    learning_mode: str,
    deferred: bool,
) -> Event:
    """`actions` are the eligible (id, features) in request order; `ranking` indexes into them,
    chosen first, with `probabilities` aligned to `ranking`."""
    return {
        "EventId": event_id,
        "Timestamp": iso_time(timestamp),
        "Version": "1",
        "a": [i + 1 for i in ranking],
        "p": probabilities,
        "_context": context,
        "_actions": [features for _, features in actions],
        "VWState": {"m": model_version},
        "DeferredAction": deferred,
        "_ids": [action_id for action_id, _ in actions],
        "_excluded": excluded,
        "_mode": learning_mode,
        "_t": timestamp,
    }


def reward_event(event_id: str, reward_id: str, value: float, timestamp: float) -> Event:
    return {"type": "reward", "EventId": event_id, "id": reward_id, "v": value, "t": timestamp}


def activation_event(event_id: str, timestamp: float) -> Event:
    return {"type": "activation", "EventId": event_id, "t": timestamp}


def encode(event: Event) -> bytes:
    return orjson.dumps(event)


def decode(body: bytes) -> Event:
    event = orjson.loads(body)
    if not isinstance(event, dict) or not isinstance(event.get("EventId"), str):
        raise ValueError("event has no EventId")
    return event


def chosen_index(decision: Event) -> int:
    """0-based index (into `_multi`) of the action that was served."""
    return int(decision["a"][0]) - 1


def probability_of_choice(decision: Event) -> float:
    return float(decision["p"][0])
