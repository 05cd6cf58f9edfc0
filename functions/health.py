"""GET /api/health: 200 when every dependency answers, 503 naming those that do not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from functions.http_app import json_response
from shared.events.publisher import get_publisher
from shared.health import check_dependencies

router = APIRouter(tags=["health"])


@router.get("/health", summary="State of each dependency (blob, queue, Cosmos)")
def health() -> Response:
    dependencies = check_dependencies()
    down = sorted(name for name, state in dependencies.items() if state["status"] != "up")
    body = {
        "status": "unhealthy" if down else "healthy",
        "down": down,
        "dependencies": dependencies,
        "publisher": get_publisher().stats(),
    }
    return json_response(body, 503 if down else 200)
