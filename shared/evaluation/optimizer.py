"""Policy optimization over the logs: a small grid of VW argument sets, each replayed over the
joined archive with the online policy, and the rule that decides whether one should replace it.

The grid varies what most often decides a policy's reward: the exploration algorithm (synthcover,
squarecb, epsilon 0.05 and 0.2) and whether context and action features are crossed (`-q ::`:
without it a linear model cannot say "this user prefers that action"). Eight replays cost about
eight times one VW pass over the window, which a queue job can afford for tens of thousands of
decisions.
"""

from __future__ import annotations

from typing import Any

EXPLORATION = ("--synthcover", "--squarecb", "--epsilon 0.05", "--epsilon 0.2")
INTERACTIONS = ("-q ::", "")


def grid() -> list[dict[str, str]]:
    """The candidates, named after what they change: `opt-synthcover-q`, `opt-epsilon-0.2`, ..."""
    candidates = []
    for explore in EXPLORATION:
        for cross in INTERACTIONS:
            name = "opt-" + explore.lstrip("-").replace(" ", "-") + ("-q" if cross else "")
            arguments = " ".join(p for p in ("--cb_explore_adf", explore, cross) if p)
            candidates.append({"name": name, "arguments": arguments})
    return candidates


def lower(result: dict[str, Any]) -> float:
    """The lower end of a policy result's 95% DR interval."""
    return float(result["totalSummary"]["estimates"]["dr"]["low"])


def estimate(result: dict[str, Any]) -> float:
    return float(result["totalSummary"]["estimates"]["dr"]["value"])


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate whose reward is highest at the lower end of its interval: the one most
    surely good, not the luckiest."""
    return max(results, key=lower)


def decide(online: dict[str, Any], candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """Personalizer's auto-optimization rule: switch only when the best candidate's 95% interval
    lies above the online policy's estimate. Returns what was decided and why."""
    if not candidates:
        return {"decision": "kept", "reason": "no candidate was evaluated"}
    top = best(candidates)
    record = {
        "candidate": {"name": top["name"], "arguments": top["arguments"]},
        "candidateLow": round(lower(top), 6),
        "onlineEstimate": round(estimate(online), 6),
    }
    if lower(top) > estimate(online):
        reason = "the best candidate's 95% interval lies above the online policy's estimate"
        return {"decision": "applied", "reason": reason, **record}
    reason = "no candidate's 95% interval lies above the online policy's estimate"
    return {"decision": "kept", "reason": reason, **record}
