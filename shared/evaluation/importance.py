"""Feature importance, 0-100 per namespace, by leave-one-namespace-out: the online policy's
arguments are replayed over the logs once with every namespace and once without each namespace;
a namespace's importance is how much the estimated reward (SNIPS) drops without it, scaled so the
most important is 100. Chosen over VW's audit weights because it measures what a feature is
worth to decisions (reward), not the size of its weights, and it needs only the logs."""

from __future__ import annotations

from shared.evaluation.policies import Line, VWPolicy
from shared.evaluation.runner import evaluate


def namespaces(lines: list[Line]) -> list[str]:
    """Context namespaces, and action namespaces prefixed `action.`."""
    context: set[str] = set()
    action: set[str] = set()
    for line in lines:
        context |= {k for k in line["c"] if not k.startswith("_")}
        for a in line["c"]["_multi"]:
            action |= {k for k in a if not k.startswith("_")}
    return sorted(context) + [f"action.{a}" for a in sorted(action)]


def _without(line: Line, namespace: str) -> Line:
    c = dict(line["c"])
    if namespace.startswith("action."):
        name = namespace.removeprefix("action.")
        c["_multi"] = [{k: v for k, v in a.items() if k != name} for a in c["_multi"]]
    else:
        c.pop(namespace, None)
    return {**line, "c": c}


def _reward(lines: list[Line], arguments: str) -> float:
    policy = VWPolicy("p", arguments)
    try:
        out = evaluate(lines, [policy])
    finally:
        policy.close()
    value: float = out["policyResults"][0]["totalSummary"]["estimates"]["snips"]["value"]
    return value


def feature_importance(lines: list[Line], arguments: str) -> dict[str, float]:
    full = _reward(lines, arguments)
    drops = {ns: max(0.0, full - _reward([_without(x, ns) for x in lines], arguments))
             for ns in namespaces(lines)}  # fmt: skip
    top = max(drops.values(), default=0.0)
    return {ns: round(100 * d / top, 1) if top > 0 else 0.0 for ns, d in drops.items()}
