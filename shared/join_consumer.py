"""Hub batches -> the join. Decode each event, record them all, park what fails."""

from __future__ import annotations

from collections.abc import Iterable

from shared import join
from shared.config_store import ConfigStore
from shared.cosmos_store import CosmosStore
from shared.events.codec import decode
from shared.events.decision import EventFormatError
from shared.join import Event, JoinReport
from shared.poison import PoisonParking


def consume(
    source: str,
    bodies: Iterable[bytes],
    store: CosmosStore,
    configs: ConfigStore,
    parking: PoisonParking,
) -> JoinReport:
    """`source` is "decisions" or "rewards"; bodies are the raw event payloads of one batch."""
    wait = configs.service().reward_wait.total_seconds()
    raw: dict[str, list[bytes]] = {}
    events: list[Event] = []
    for body in bodies:
        try:
            event = decode(body)
        except EventFormatError as exc:
            parking.park(source, body, f"undecodable: {exc}")
            continue
        raw.setdefault(event.event_id, []).append(body)
        events.append(event.to_wire())
    report = join.record_batch(store, source, events, wait)
    for event_id, error in report.failed:
        for body in raw[event_id]:
            parking.park(source, body, error)
    return report
