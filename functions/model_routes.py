"""Personalizer's model and log routes (shared/model_admin.py), under every base path."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from functions.http_io import error_responses, json_response
from shared import wiring

router = APIRouter(tags=["personalizer"])
BINARY = {"type": "string", "format": "binary"}
MODEL_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": BINARY}},
    }
}


@router.get(
    "/model",
    summary="Export the current model (VW bytes)",
    response_class=Response,  # bytes only: not FastAPI's default application/json
    responses={200: {"content": {"application/octet-stream": {"schema": BINARY}}}},
)
def get_model() -> Response:
    data = wiring.current().model_admin.export()
    return Response(data, 200, media_type="application/octet-stream")


@router.put(
    "/model",
    status_code=204,
    summary="Import a model; one that does not load with the current policy is refused",
    openapi_extra=MODEL_BODY,
    responses=error_responses(400, 409, 413),
)
async def put_model(request: Request) -> Response:
    app = wiring.current()
    app.model_admin.replace_model(await request.body())
    app.serving.refresh_model()
    return Response(status_code=204)


@router.delete("/model", status_code=204, summary="Reset the model (learning continues)",
               responses=error_responses(409))  # fmt: skip
def reset_model() -> Response:
    app = wiring.current()
    app.model_admin.reset()
    app.serving.refresh_model()
    return Response(status_code=204)


@router.get("/model/properties", summary="When the model was created and last updated")
def model_properties() -> Response:
    return json_response(wiring.current().model_admin.properties())


@router.get("/logs/properties", summary="Date range of the stored (joined) logs")
def log_properties() -> Response:
    return json_response(wiring.current().model_admin.log_properties())


@router.delete("/logs", status_code=204, summary="Delete the stored logs (the joined archive)")
def delete_logs() -> Response:
    wiring.current().model_admin.delete_logs()
    return Response(status_code=204)
