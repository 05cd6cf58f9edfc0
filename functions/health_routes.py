"""GET /api/health: 200 when every dependency answers, 503 naming those that do not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from functions.http_io import json_response
from shared import wiring
from shared.dependency_checks import check_dependencies
from shared.events.decision import iso_time

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="State of each dependency (blob, queue, Cosmos, event transport)",
    # a 503 carries the same report (its `down` names the dependencies), not an error body
    responses={503: {"description": "A dependency is down", "content": {"application/json": {}}}},
)
def health() -> Response:
    app = wiring.current()
    dependencies = check_dependencies(app.dependency_checks())
    down = sorted(name for name, state in dependencies.items() if state["status"] != "up")
    body = {
        "status": "unhealthy" if down else "healthy",
        "down": down,
        "dependencies": dependencies,
        "transport": app.settings.event_transport,
        "publisher": app.publisher.stats() if "events" not in down else None,
        "learning": learning(app),
    }
    return json_response(body, 503 if down else 200)


def learning(app: wiring.Wiring) -> dict[str, object] | None:
    """The served model's learning state, from memory (the serving state's model metadata)."""
    try:
        loaded = app.serving.model()
    except Exception:  # the stores are down: the dependencies section says which
        return None
    if loaded is None:
        return {"modelVersion": 0, "eventsLearned": 0}
    m = loaded.meta
    return {
        "modelVersion": m.version,
        "trainedAt": iso_time(m.updated_at),
        "watermark": iso_time(m.watermark) if m.watermark else None,
        "eventsLearned": m.events_learned,
        "learnedLastRun": m.learned_last,
        "lagSeconds": {"p50": m.lag_p50, "p99": m.lag_p99, "max": m.lag_max},
        "lateEvents": m.late_events,
        "pendingDeferred": m.pending,
        "unknownFeaturization": m.unknown_featurization,
    }
