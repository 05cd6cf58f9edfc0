"""Queue trigger running offline evaluations (shared/evaluation/jobs.py). A failing message is
retried by the host and then parked in `<queue>-poison`; the job itself records failures. The
auto-optimization timer queues one when the service configuration asks for it and it is due."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

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


@bp.function_name("auto_optimize")
@bp.timer_trigger(arg_name="timer", schedule="%AUTO_OPTIMIZE_SCHEDULE%", run_on_startup=False)
def auto_optimize(timer: func.TimerRequest) -> None:
    app = wiring.current()
    status = app.evaluations.auto_optimize(app.config_store.service(), datetime.now(UTC))
    log.log(logging.INFO if status == "queued" else logging.DEBUG, "auto-optimization: %s", status)
