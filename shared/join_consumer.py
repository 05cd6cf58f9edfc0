"""Hub batches -> join mutations. Decode each event, apply them all, park what fails."""

from __future__ import annotations

from collections.abc import Iterable

from shared import join
from shared.cosmos_store import get_store
from shared.decision_events import Event, decode
from shared.join import JoinReport, Mutation
from shared.poison import park
from shared.service_config import get_config_store


def consume(source: str, bodies: Iterable[bytes]) -> JoinReport:
    """`source` is "decisions" or "rewards"; bodies are the raw event payloads of one batch."""
    wait = get_config_store().service().reward_wait.total_seconds()
    raw: dict[str, list[bytes]] = {}
    updates: list[tuple[str, Mutation]] = []
    for body in bodies:
        try:
            event: Event = decode(body)
        except ValueError as exc:
            park(source, body, f"undecodable: {exc}")
            continue
        event_id = event["EventId"]
        raw.setdefault(event_id, []).append(body)
        if source == "decisions":
            updates.append((event_id, join.add_decision(event, wait)))
        else:
            updates.append((event_id, join.add_observation(event, wait)))
    report = join.apply_batch(get_store(), updates)
    for event_id, error in report.failed:
        for body in raw[event_id]:
            park(source, body, error)
    return report
