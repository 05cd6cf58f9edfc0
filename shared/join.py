"""Join decisions with their rewards and activations, by event id, in Cosmos `events`.

Hubs deliver at least once and in any order (a reward may come before its decision), so every
update is a merge that gives the same document however often and in whatever order it is applied:
the decision is set once, rewards are keyed by their own id, activation keeps the earliest time.
Writes use the document's ETag, so concurrent consumers never lose each other's updates.

Document: {id, decision?, rewards: {rewardId: {v, t}}, activatedAt?, matureAt?, claim?}
`matureAt` (unix seconds) is when the reward window closes: decision time (activation time for a
deferred event) plus rewardWaitTime. A deferred event that is never activated never matures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared.cosmos_store import Conflict, CosmosStore, PreconditionFailed
from shared.decision_events import Event

log = logging.getLogger(__name__)

CONTAINER = "events"
Doc = dict[str, Any]
Mutation = Callable[[Doc], bool]  # changes the doc in place; False when there was nothing to do

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="join")


def _settle(doc: Doc, wait_seconds: float) -> None:
    decision = doc.get("decision")
    if decision is None or "matureAt" in doc:
        return
    if decision.get("DeferredAction"):
        if "activatedAt" not in doc:
            return
        start = float(doc["activatedAt"])
    else:
        start = float(decision["_t"])
    doc["matureAt"] = start + wait_seconds


def add_decision(decision: Event, wait_seconds: float) -> Mutation:
    def mutate(doc: Doc) -> bool:
        if "decision" in doc:
            return False
        doc["decision"] = decision
        _settle(doc, wait_seconds)
        return True

    return mutate


def add_observation(observation: Event, wait_seconds: float) -> Mutation:
    def mutate(doc: Doc) -> bool:
        if observation.get("type") == "activation":
            t = float(observation["t"])
            if "activatedAt" in doc and doc["activatedAt"] <= t:
                return False
            if "matureAt" in doc:  # window already running from an earlier activation
                return False
            doc["activatedAt"] = t
            _settle(doc, wait_seconds)
            return True
        rewards = doc.setdefault("rewards", {})
        if observation["id"] in rewards:
            return False
        rewards[observation["id"]] = {"v": float(observation["v"]), "t": float(observation["t"])}
        return True

    return mutate


def apply(store: CosmosStore, event_id: str, mutations: list[Mutation], attempts: int = 20) -> bool:
    """Read-merge-write one document with optimistic concurrency; True if it changed."""
    for _ in range(attempts):
        doc = store.read(CONTAINER, event_id)
        fresh = doc is None
        current: Doc = {"id": event_id, "rewards": {}} if doc is None else doc
        changed = [m(current) for m in mutations]
        if not any(changed):
            return False
        try:
            if fresh:
                store.create(CONTAINER, current)
            else:
                store.replace(CONTAINER, current, current["_etag"])
            return True
        except (Conflict, PreconditionFailed):
            continue  # someone else wrote first: merge again on the new version
    raise RuntimeError(f"event {event_id}: too much write contention")


@dataclass
class JoinReport:
    changed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def apply_batch(
    store: CosmosStore, updates: Iterable[tuple[str, Mutation]], parallel: bool = True
) -> JoinReport:
    """Apply mutations grouped by event id (one write per document), documents in parallel.
    A failing document is reported, never allowed to stop the rest of the batch."""
    grouped: dict[str, list[Mutation]] = {}
    for event_id, mutation in updates:
        grouped.setdefault(event_id, []).append(mutation)
    report = JoinReport()

    def one(item: tuple[str, list[Mutation]]) -> tuple[str, bool | Exception]:
        try:
            return item[0], apply(store, item[0], item[1])
        except Exception as exc:
            return item[0], exc

    results = _pool.map(one, grouped.items()) if parallel else map(one, grouped.items())
    for event_id, outcome in results:
        if isinstance(outcome, Exception):
            log.error("join failed for event %s: %s", event_id, outcome)
            report.failed.append((event_id, str(outcome)))
        elif outcome:
            report.changed += 1
        else:
            report.unchanged += 1
    return report
