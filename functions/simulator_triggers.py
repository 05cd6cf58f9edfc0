"""Queue trigger of the simulator (simulator/runs.py): one message, one visitor step (or one
spawn of arriving visitors). A message that is not the simulator's raises; the host retries it
up to maxDequeueCount and then moves it to `<queue>-poison`."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import wiring

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("simulate")
@bp.queue_trigger(
    arg_name="message", queue_name="%SIMULATOR_QUEUE%", connection="AzureWebJobsStorage"
)
def simulate(message: func.QueueMessage) -> None:
    outcome = wiring.current().simulations.handle(message.get_body())
    log.debug("simulate: %s", outcome)
