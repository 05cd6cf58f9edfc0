"""GET /api/health: 200 when every dependency answers, 503 naming those that do not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from functions.http_io import error_responses, json_response
from shared import wiring
from shared.dependency_checks import check_dependencies

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="State of each dependency (blob, queue, Cosmos, event transport)",
    responses=error_responses(503),
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
    }
    return json_response(body, 503 if down else 200)
