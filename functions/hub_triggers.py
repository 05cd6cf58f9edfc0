"""Event Hub triggers that join decisions with rewards and activations (shared/join.py)."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import wiring
from shared.join import JoinReport
from shared.join_consumer import consume

bp = func.Blueprint()
log = logging.getLogger(__name__)


def _consume(source: str, events: list[func.EventHubEvent]) -> JoinReport:
    app = wiring.current()
    bodies = [e.get_body() for e in events]
    return consume(source, bodies, app.cosmos, app.config_store, app.parking)


@bp.function_name("join_decisions")
@bp.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%DECISIONS_HUB%",
    connection="EventHubConnection",
    cardinality=func.Cardinality.MANY,
)
def join_decisions(events: list[func.EventHubEvent]) -> None:
    report = _consume("decisions", events)
    log.info(
        "decisions: %d joined, %d repeats, %d parked",
        report.changed,
        report.unchanged,
        len(report.failed),
    )


@bp.function_name("join_rewards")
@bp.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%REWARDS_HUB%",
    connection="EventHubConnection",
    cardinality=func.Cardinality.MANY,
)
def join_rewards(events: list[func.EventHubEvent]) -> None:
    report = _consume("rewards", events)
    log.info(
        "rewards: %d joined, %d repeats, %d parked",
        report.changed,
        report.unchanged,
        len(report.failed),
    )
