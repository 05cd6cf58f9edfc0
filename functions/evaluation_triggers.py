"""Queue trigger running offline evaluations (shared/evaluation/jobs.py). A failing message is
retried by the host and then parked in `<queue>-poison`; the job itself records failures."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import wiring

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("evaluate")
@bp.queue_trigger(
    arg_name="message", queue_name="%EVALUATIONS_QUEUE%", connection="AzureWebJobsStorage"
)
def evaluate(message: func.QueueMessage) -> None:
    status = wiring.current().evaluations.run(message.get_body())
    log.info("evaluation: %s", status)
