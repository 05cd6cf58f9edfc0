"""POST/GET /api/offers (shared/offers/) and GET /api/stats/lift (reward per experiment arm)."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from functions.http_io import JsonBody, error_responses, json_response, validation_message
from shared import wiring
from shared.errors import bad_request
from shared.offers.lift import lift
from shared.offers.request import MAX_COUNT, OffersRequest, Placement

router = APIRouter(tags=["offers"])
BODY = JsonBody(OffersRequest, error_code="InvalidOffersRequest")
# GET query parameters that are not request fields become context (?device=mobile&timeOfDay=…)
FIELDS = {"userId", "sessionId", "placement", "productId", "cartProductIds", "count", "eventId"}


@router.post(
    "/offers",
    summary="The offers to show this visitor, ranked, with explanations",
    openapi_extra=BODY.openapi,
    responses=error_responses(400, 404, 503),
)
async def post_offers(request: Request) -> Response:
    parsed = await BODY.parse(request)
    # The profile read waits on Cosmos (up to its timeout): in a worker thread, not on the event
    # loop, so one slow read does not hold up every other request of this worker.
    return json_response(await run_in_threadpool(wiring.current().offers.offers, parsed))


@router.get(
    "/offers",
    summary="The same as POST, from query parameters; other parameters are context",
    responses=error_responses(400, 404, 503),
)
def get_offers(
    request: Request,
    # checked by OffersRequest below (its error code); the enum tells the document the same
    placement: str = Query("homepage", json_schema_extra={"enum": list(get_args(Placement))}),
    count: int = Query(3, ge=1, le=MAX_COUNT),
) -> Response:
    params = request.query_params
    body: dict[str, object] = {"placement": placement, "count": count}
    for name in ("userId", "sessionId", "productId", "eventId"):
        if name in params:
            body[name] = params[name]
    if "cartProductIds" in params:
        body["cartProductIds"] = [p for p in params["cartProductIds"].split(",") if p]
    body["context"] = {k: v for k, v in params.items() if k not in FIELDS}
    try:
        parsed = OffersRequest.model_validate(body)
    except ValidationError as exc:
        message, target = validation_message(exc.errors())
        raise bad_request(message, code="InvalidOffersRequest", target=target) from exc
    return json_response(wiring.current().offers.offers(parsed))


@router.get(
    "/stats/lift",
    summary="Reward per experiment arm (personalized vs control) with 95% intervals, and the lift",
    responses=error_responses(400),
)
def get_lift(hours: int = Query(24, ge=1, le=24 * 90)) -> Response:
    report = lift(wiring.current().archive, hours)
    return json_response({"hours": hours, **report.to_json()})
