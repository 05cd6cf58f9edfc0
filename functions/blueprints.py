"""Every trigger blueprint the app registers (HTTP routes: functions/api.py)."""

from __future__ import annotations

import azure.functions as func

from functions import (
    activity_triggers,
    evaluation_triggers,
    hub_triggers,
    learn_timer,
    simulator_triggers,
)

ALL: list[func.Blueprint] = [
    hub_triggers.bp,
    activity_triggers.bp,
    learn_timer.bp,
    simulator_triggers.bp,
    evaluation_triggers.bp,
]
