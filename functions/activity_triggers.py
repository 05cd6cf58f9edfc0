"""Event Hub trigger on the `activity` hub: archive the batch and pre-aggregate it into Cosmos
(shared/activity/consumer.py), exactly once per batch."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import wiring

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("aggregate_activity")
@bp.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%ACTIVITY_HUB%",
    connection="EventHubConnection",
    cardinality=func.Cardinality.MANY,
)
def aggregate_activity(events: list[func.EventHubEvent]) -> None:
    report = wiring.current().activity_consumer.consume(e.get_body() for e in events)
    log.info(
        "activity: %d events, %d parked, batch %s: %d documents, %d written, %d retried",
        report.events,
        report.parked,
        report.batch,
        report.applied.documents,
        report.applied.writes,
        report.applied.retries,
    )
