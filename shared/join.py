"""Join decisions with their rewards and activations, by event id, in Cosmos `events`.

Hubs deliver at least once and in any order (a reward may come before its decision), so every
update is a merge that gives the same document however often and in whatever order it is applied:
the decision is set once, rewards are keyed by their own id, activation keeps the earliest time.
Writes use the document's ETag, so concurrent consumers never lose each other's updates; the
common cases take one write (a decision creates its document, a reward is a server-side patch).

Document: {id, decision?, rewards: {rewardId: {v, t}}, activatedAt?, matureAt?, claim?}
`matureAt` (unix seconds) is when the reward window closes: decision time (activation time for a
deferred event) plus rewardWaitTime. A deferred event that is never activated never matures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared.cosmos_store import Conflict, CosmosStore, NotFound, PreconditionFailed

log = logging.getLogger(__name__)

CONTAINER = "events"
Doc = dict[str, Any]
Event = dict[str, Any]  # an event in its wire form (shared/events/codec.py)
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


def _decision_fast(store: CosmosStore, decision: Event, wait_seconds: float) -> bool:
    """The usual case, one write: the decision comes first and creates its document."""
    doc: Doc = {"id": decision["EventId"], "rewards": {}}
    add_decision(decision, wait_seconds)(doc)
    try:
        store.create(CONTAINER, doc)
        return True
    except Conflict:  # a reward came first, or a redelivery: merge
        return apply(store, doc["id"], [add_decision(decision, wait_seconds)])


def _reward_fast(store: CosmosStore, reward: Event, attempts: int = 20) -> bool:
    """One server-side patch keyed by the reward's own id (idempotent), creating the document if
    the reward came before its decision."""
    event_id, value = reward["EventId"], {"v": float(reward["v"]), "t": float(reward["t"])}
    operation = [{"op": "set", "path": f"/rewards/{reward['id']}", "value": value}]
    for _ in range(attempts):
        try:
            store.patch(CONTAINER, event_id, operation)
            return True
        except NotFound:
            try:
                store.create(CONTAINER, {"id": event_id, "rewards": {reward["id"]: value}})
                return True
            except Conflict:
                continue
    raise RuntimeError(f"event {event_id}: too much write contention")


def _record(store: CosmosStore, source: str, events: list[Event], wait_seconds: float) -> bool:
    if len(events) == 1:
        event = events[0]
        if source == "decisions":
            return _decision_fast(store, event, wait_seconds)
        if event.get("type") == "reward" and str(event.get("id", "")).isalnum():
            return _reward_fast(store, event)
    add = add_decision if source == "decisions" else add_observation
    return apply(store, events[0]["EventId"], [add(e, wait_seconds) for e in events])


def record_batch(
    store: CosmosStore, source: str, events: list[Event], wait_seconds: float
) -> JoinReport:
    """Join one hub batch (`source` is "decisions" or "rewards"): events grouped by id, documents
    written in parallel, one write per document in the usual case. A failing document is reported,
    never allowed to stop the rest of the batch."""
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event["EventId"], []).append(event)
    report = JoinReport()

    def one(item: tuple[str, list[Event]]) -> tuple[str, bool | Exception]:
        try:
            return item[0], _record(store, source, item[1], wait_seconds)
        except Exception as exc:
            return item[0], exc

    for event_id, outcome in _pool.map(one, grouped.items()):
        if isinstance(outcome, Exception):
            log.error("join failed for event %s: %s", event_id, outcome)
            report.failed.append((event_id, str(outcome)))
        elif outcome:
            report.changed += 1
        else:
            report.unchanged += 1
    return report
