"""Hub batches -> the join. Decode each event, record them all, park what fails."""

from __future__ import annotations

from collections.abc import Iterable

from shared import join
from shared.cosmos_store import get_store
from shared.decision_events import Event, decode
from shared.join import JoinReport
from shared.poison import park
from shared.service_config import get_config_store


def consume(source: str, bodies: Iterable[bytes]) -> JoinReport:
    """`source` is "decisions" or "rewards"; bodies are the raw event payloads of one batch."""
    wait = get_config_store().service().reward_wait.total_seconds()
    raw: dict[str, list[bytes]] = {}
    events: list[Event] = []
    for body in bodies:
        try:
            event = decode(body)
        except ValueError as exc:
            park(source, body, f"undecodable: {exc}")
            continue
        raw.setdefault(event["EventId"], []).append(body)
        events.append(event)
    report = join.record_batch(get_store(), source, events, wait)
    for event_id, error in report.failed:
        for body in raw[event_id]:
            park(source, body, error)
    return report
