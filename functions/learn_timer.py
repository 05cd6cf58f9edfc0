"""Timer trigger for the learning run (shared/learner.py). The schedule (LEARN_SCHEDULE) is how
often to check; the stored modelExportFrequency decides when a run actually trains, so changing it
needs no restart. Timer triggers are singletons across instances."""

from __future__ import annotations

import logging

import azure.functions as func

from shared import wiring

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("learn")
@bp.timer_trigger(arg_name="timer", schedule="%LEARN_SCHEDULE%", run_on_startup=False)
def learn(timer: func.TimerRequest) -> None:
    report = wiring.current().learner.run()
    level = logging.INFO if report.status in ("learned", "conflict") else logging.DEBUG
    log.log(level, "learn: %s", report)
