"""The join, in memory and pure: decisions + rewards + activations -> events ready to learn.

The learner (shared/learner.py) reads the decision windows of one run and the reward windows that
can hold their rewards from the event log (shared/capture.py) and calls `join`. Everything here is
a function of its inputs, so the same inputs always give the same joined events (a run that must
rebuild its archive after a crash recomputes exactly what it learned).

Rules (Personalizer's):
- delivery is at least once: decisions are deduplicated by EventId, rewards by their own id,
  activations keep the earliest time;
- an event's reward window starts at its decision time, or at its activation for a decision ranked
  with `deferActivation`, and lasts `rewardWaitTime`; rewards after it are ignored; the rewards in
  it are aggregated (`earliest`, `sum` or `average`); none -> `defaultReward`;
- a deferred decision is learnable only once activated (at or before the run's cutoff, so its
  whole window has been read); until then it is carried as learner state (`Pending`), with the
  rewards seen so far, and dropped after `logRetentionDays`.
- with `earliest`, the first reward decides: a decision whose window is still open is ready as soon
  as a reward at or before the capture horizon is in (`early`), without waiting for the rest of
  its window; the learner remembers the ids so the window's normal close skips them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.contracts import ServiceConfiguration

Wire = dict[str, Any]  # an event in its wire form (shared/events/codec.py)
Rewards = dict[str, dict[str, float]]  # reward id -> {"v": value, "t": unix seconds}


@dataclass
class Pending:
    """A deferred decision not yet activated, carried from one learning run to the next."""

    decision: Wire
    rewards: Rewards = field(default_factory=dict)

    def to_wire(self) -> Wire:
        return {"d": self.decision, "r": self.rewards}

    @classmethod
    def from_wire(cls, wire: Wire) -> Pending:
        return cls(wire["d"], dict(wire.get("r", {})))


@dataclass(frozen=True)
class Joined:
    """A decision with its reward window closed: `doc` is what shared/dsjson.joined_line takes."""

    doc: Wire  # {"id", "decision", "rewards", "matureAt"}
    reward: float

    @property
    def event_id(self) -> str:
        return str(self.doc["id"])

    @property
    def time(self) -> float:
        return float(self.doc["decision"]["_t"])


@dataclass
class JoinResult:
    ready: list[Joined]  # in time order (decision time, then id)
    pending: dict[str, Pending]
    decisions: int = 0  # distinct decisions read this run
    duplicates: int = 0  # decisions delivered more than once
    expired: int = 0  # deferred decisions never activated within logRetentionDays


def final_reward(doc: Wire, config: ServiceConfiguration) -> float:
    """The reward an event is learned with: rewards received inside its window, aggregated."""
    window_end = float(doc["matureAt"])
    values = [
        float(r["v"])
        for r in sorted(doc.get("rewards", {}).values(), key=lambda r: float(r["t"]))
        if float(r["t"]) <= window_end
    ]
    if not values:
        return config.defaultReward
    if config.rewardAggregation == "sum":
        return sum(values)
    if config.rewardAggregation == "average":
        return sum(values) / len(values)
    return values[0]


def _collect(observations: Iterable[Wire]) -> tuple[dict[str, Rewards], dict[str, float]]:
    rewards: dict[str, Rewards] = {}
    activations: dict[str, float] = {}
    for o in observations:
        event_id = o["EventId"]
        if o.get("type") == "activation":
            t = float(o["t"])
            if t < activations.get(event_id, float("inf")):
                activations[event_id] = t
        else:
            rewards.setdefault(event_id, {}).setdefault(
                str(o["id"]), {"v": float(o["v"]), "t": float(o["t"])}
            )
    return rewards, activations


def early(
    decisions: Iterable[Wire],
    observations: Iterable[Wire],
    skip: set[str] | dict[str, float],
    config: ServiceConfiguration,
    wait_seconds: float,
    horizon: float,
) -> list[Joined]:
    """Decisions whose reward is already decided although their window is still open: with
    `earliest` aggregation, one with a reward received at or before `horizon` (everything up to
    the horizon has been captured, so no earlier reward can still arrive). Deferred decisions and
    the ids in `skip` (learned already) are left to the normal close of their window."""
    if config.rewardAggregation != "earliest":
        return []
    rewards, _ = _collect(observations)
    ready: dict[str, Joined] = {}
    for d in decisions:
        event_id = d["EventId"]
        if event_id in skip or event_id in ready or d.get("DeferredAction"):
            continue
        t = float(d["_t"])
        inside = {
            k: r
            for k, r in rewards.get(event_id, {}).items()
            if r["t"] <= min(horizon, t + wait_seconds)
        }
        if not inside:
            continue
        doc: Wire = {"id": event_id, "decision": d, "rewards": inside, "matureAt": t + wait_seconds}
        ready[event_id] = Joined(doc, final_reward(doc, config))
    return sorted(ready.values(), key=lambda j: (j.time, j.event_id))


def join(
    decisions: Iterable[Wire],
    observations: Iterable[Wire],
    pending: dict[str, Pending],
    config: ServiceConfiguration,
    wait_seconds: float,
    cutoff: float,
    now: float,
) -> JoinResult:
    """Join this run's decisions (and the pending ones) with the observations read.

    `cutoff`: the run's new watermark; a deferred decision activated at or before it is ready
    (its rewards up to activation + wait have been read). `now` only expires old pending ones.
    """
    rewards, activations = _collect(observations)
    unique: dict[str, Wire] = {}
    duplicates = 0
    for d in decisions:
        if d["EventId"] in unique:
            duplicates += 1
        else:
            unique[d["EventId"]] = d
    candidates = {k: Pending(v.decision, dict(v.rewards)) for k, v in pending.items()}
    for event_id, d in unique.items():
        if event_id not in candidates:
            candidates[event_id] = Pending(d)
    retention = config.logRetentionDays
    oldest = now - retention * 86_400 if retention > 0 else float("-inf")

    result = JoinResult(ready=[], pending={}, decisions=len(unique), duplicates=duplicates)
    for event_id, entry in candidates.items():
        for reward_id, r in rewards.get(event_id, {}).items():
            entry.rewards.setdefault(reward_id, r)
        decision = entry.decision
        t = float(decision["_t"])
        if decision.get("DeferredAction"):
            # a multi-slot rank is activated once, by its own id, for all its slots
            activated = activations.get(decision.get("_group") or event_id)
            if activated is None or activated > cutoff:
                if t < oldest:
                    result.expired += 1
                else:
                    result.pending[event_id] = entry
                continue
            start = max(activated, t)
        else:
            start = t
        doc: Wire = {"id": event_id, "decision": decision, "rewards": entry.rewards}
        doc["matureAt"] = start + wait_seconds
        result.ready.append(Joined(doc, final_reward(doc, config)))
    result.ready.sort(key=lambda j: (j.time, j.event_id))
    return result
