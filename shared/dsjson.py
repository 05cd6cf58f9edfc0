"""Joined events as Decision Service JSON lines that plain `vw --dsjson --cb_explore_adf` reads.

The `c` object is derived from the very VW text lines the learner trains on (shared/features.py),
so offline VW sees exactly the features the service learned from: every feature becomes a
`"name": value` pair in its namespace (one-hot strings are already `key=value` names, flags are 1).
"""

from __future__ import annotations

from typing import Any

from shared import features
from shared.events.decision import DecisionEvent

Namespaces = dict[str, dict[str, float]]


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def line_to_json(line: str) -> Namespaces:
    """`shared |ns a=b c:2 flag |m x` -> {"ns": {"a=b": 1, "c": 2, "flag": 1}, "m": {"x": 1}}.

    Tokens never contain spaces, pipes or colons other than VW's own (features.escape)."""
    namespaces: Namespaces = {}
    for segment in line.split("|")[1:]:
        name, _, body = segment.partition(" ")
        target = namespaces.setdefault(name or " ", {})
        for token in body.split():
            feature, _, value = token.partition(":")
            target[feature] = _number(value) if value else 1
    return namespaces


def _vw_json(namespaces: Namespaces) -> dict[str, Any]:
    """VW JSON puts top-level scalars in the default namespace, objects in named ones."""
    out: dict[str, Any] = dict(namespaces.pop(" ", {}))
    out.update(namespaces)
    return out


def vw_lines(decision: DecisionEvent) -> tuple[str, list[str]]:
    """The shared line and the action lines of a logged decision, exactly as rank built them.

    The learner's rule for featurization versions: an event is featurized with the version it was
    served with (`decision.featurization`). This code knows version 1 only (features.VERSION); an
    event naming another version is refused, never learned with features it was not ranked with.
    """
    if decision.featurization != features.VERSION:
        raise ValueError(
            f"event {decision.event_id} uses featurization v{decision.featurization}; "
            f"this learner has v{features.VERSION}"
        )
    context, _ = features.context_line(decision.context)
    return context, [features.cached_action_line(f) for f in decision.action_features]


def joined_line(
    doc: dict[str, Any],
    reward: float,
    skip_learn: bool = False,
    lines: tuple[str, list[str]] | None = None,
) -> dict[str, Any]:
    """`lines`: the decision's VW lines when the caller has them already (see `vw_lines`)."""
    wire = doc["decision"]
    decision = DecisionEvent.from_wire(wire)
    context, action_lines = lines or vw_lines(decision)
    actions = [_vw_json(line_to_json(line)) for line in action_lines]
    chosen = decision.chosen_index
    observations = [
        {"v": r["v"], "EventId": doc["id"], "ActionTaken": False}
        for r in sorted(doc.get("rewards", {}).values(), key=lambda r: r["t"])
    ]
    line: dict[str, Any] = {
        "_label_cost": -reward,
        "_label_probability": decision.chosen_probability,
        "_label_Action": chosen + 1,
        "_labelIndex": chosen,
        "o": observations,
        "Timestamp": wire["Timestamp"],
        "Version": "1",
        "EventId": doc["id"],
        "a": wire["a"],
        "c": {**_vw_json(line_to_json(context)), "_multi": actions},
        "p": wire["p"],
        "VWState": wire["VWState"],
    }
    if skip_learn:
        line["_skipLearn"] = True
    if decision.arm:
        line["_arm"] = decision.arm  # the offers API's experiment arm (lift per arm)
    if decision.group:
        line["_group"] = decision.group  # one slot of this multi-slot rank
    return line
