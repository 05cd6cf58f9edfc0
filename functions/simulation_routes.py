"""POST/GET/DELETE /api/simulations: queue-driven simulated shoppers (simulator/runs.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from functions.http_io import JsonBody, error_responses, json_response
from shared import wiring
from shared.errors import ApiError, bad_request, not_found
from simulator.run_store import RunNotFound
from simulator.runs import SimulationRequest

router = APIRouter(tags=["simulator"])
BODY = JsonBody(SimulationRequest, error_code="InvalidSimulation")


def _missing(run_id: str) -> ApiError:
    return not_found(f"no simulation {run_id!r}", code="SimulationNotFound")


@router.post(
    "/simulations",
    status_code=201,
    summary="Start a queue-driven run of simulated visitors",
    openapi_extra=BODY.openapi,
    responses=error_responses(400),
)
async def start(request: Request) -> Response:
    body = await BODY.parse(request)
    try:
        status = wiring.current().simulations.start(body)
    except (ValueError, FileNotFoundError) as exc:
        raise bad_request(str(exc), code="InvalidSimulation") from exc
    return json_response(status, 201, {"Location": f"/api/simulations/{status['id']}"})


@router.get(
    "/simulations/{runId}",
    summary="A run's progress, and its reward beside the oracle's and random's on the same visits",
    responses=error_responses(404),
)
def status(runId: str) -> Response:
    try:
        return json_response(wiring.current().simulations.status(runId))
    except RunNotFound as exc:
        raise _missing(runId) from exc


@router.delete("/simulations/{runId}", summary="Stop a run", responses=error_responses(404))
def stop(runId: str) -> Response:
    try:
        return json_response(wiring.current().simulations.stop(runId))
    except RunNotFound as exc:
        raise _missing(runId) from exc
