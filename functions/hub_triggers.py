"""Event Hub triggers that capture decisions and rewards/activations into the event log
(shared/capture.py): one blob per (delivered batch, window), nothing else. The learner joins."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import wiring
from shared.capture import CaptureReport

bp = func.Blueprint()
log = logging.getLogger(__name__)


def _capture(kind: str, events: list[func.EventHubEvent]) -> CaptureReport:
    batch = [
        (e.enqueued_time.timestamp() if e.enqueued_time else None, e.get_body()) for e in events
    ]
    report = wiring.current().capture.consume(kind, batch)
    log.info(
        "%s: %d captured in %d blobs, %d late, %d parked",
        kind,
        report.events,
        len(report.blobs),
        report.late,
        report.parked,
    )
    return report


@bp.function_name("capture_decisions")
@bp.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%DECISIONS_HUB%",
    connection="EventHubConnection",
    cardinality=func.Cardinality.MANY,
)
def capture_decisions(events: list[func.EventHubEvent]) -> None:
    _capture("decisions", events)


@bp.function_name("capture_rewards")
@bp.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%REWARDS_HUB%",
    connection="EventHubConnection",
    cardinality=func.Cardinality.MANY,
)
def capture_rewards(events: list[func.EventHubEvent]) -> None:
    _capture("rewards", events)
