"""Personalizer-compatible routes: rank, reward, activate, service configuration and policy.

Served under every base path the official clients use: /personalizer/v1.0, the v1.1 previews, and
/personalizer?api-version=2022-09-01-preview. Each handler parses, calls shared/, answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from functions.http_io import JsonBody, error_responses, json_response
from shared import wiring
from shared.contracts import (
    MAX_ID_LENGTH,
    MultiSlotRankRequest,
    MultiSlotRankResponse,
    MultiSlotRewardRequest,
    PolicyContract,
    RankRequest,
    RankResponse,
    RewardRequest,
    ServiceConfiguration,
)
from shared.errors import bad_request
from shared.policy import PolicyError

BASE_PATHS = (
    "/api/personalizer/v1.0",
    "/api/personalizer/v1.1-preview.1",
    "/api/personalizer/v1.1-preview.2",
    "/api/personalizer/v1.1-preview.3",
    "/api/personalizer",
)


EventId = Path(min_length=1, max_length=MAX_ID_LENGTH)
router = APIRouter(tags=["personalizer"])


RANK_BODY = JsonBody(RankRequest, error_code="InvalidRankRequest")
REWARD_BODY = JsonBody(RewardRequest, error_code="InvalidRewardRequest")
MULTI_SLOT_RANK_BODY = JsonBody(MultiSlotRankRequest, error_code="InvalidMultiSlotRankRequest")
MULTI_SLOT_REWARD_BODY = JsonBody(MultiSlotRewardRequest, error_code="InvalidRewardRequest")


@router.post(
    "/rank",
    status_code=201,
    response_model=RankResponse,
    summary="Rank actions",
    openapi_extra=RANK_BODY.openapi,
    responses=error_responses(400, 503),
)
async def rank(request: Request) -> Response:
    # async and parsed by hand: the hot path skips FastAPI's thread hop and stdlib json.
    outcome = wiring.current().ranker.rank(await RANK_BODY.parse(request))
    return json_response(outcome.response, 201)


@router.post(
    "/events/{eventId}/reward",
    status_code=204,
    summary="Report a reward (-1..1)",
    openapi_extra=REWARD_BODY.openapi,
    responses=error_responses(400, 503),
)
async def reward(request: Request, eventId: str = EventId) -> Response:
    body = await REWARD_BODY.parse(request)
    wiring.current().ranker.reward(eventId, body.value)
    return Response(status_code=204)


@router.post(
    "/events/{eventId}/activate",
    status_code=204,
    summary="Activate a deferred event (any id is accepted, as Personalizer does)",
    responses=error_responses(400, 503),
)
async def activate(eventId: str = EventId) -> Response:  # no I/O: publishing only enqueues
    wiring.current().ranker.activate(eventId)
    return Response(status_code=204)


@router.post(
    "/multislot/rank",
    status_code=201,
    response_model=MultiSlotRankResponse,
    summary="Rank actions for several slots (one decision per slot, no action twice)",
    openapi_extra=MULTI_SLOT_RANK_BODY.openapi,
    responses=error_responses(400, 503),
)
async def rank_multi_slot(request: Request) -> Response:
    body = await MULTI_SLOT_RANK_BODY.parse(request)
    return json_response(wiring.current().ranker.rank_multi_slot(body), 201)


@router.post(
    "/multislot/events/{eventId}/reward",
    status_code=204,
    summary="Report a reward (-1..1) per slot",
    openapi_extra=MULTI_SLOT_REWARD_BODY.openapi,
    responses=error_responses(400, 503),
)
async def reward_multi_slot(request: Request, eventId: str = EventId) -> Response:
    body = await MULTI_SLOT_REWARD_BODY.parse(request)
    wiring.current().ranker.reward_slots(eventId, [(r.slotId, r.value) for r in body.reward])
    return Response(status_code=204)


@router.post(
    "/multislot/events/{eventId}/activate",
    status_code=204,
    summary="Activate a deferred multi-slot event (all its slots; any id is accepted)",
    responses=error_responses(400, 503),
)
async def activate_multi_slot(eventId: str = EventId) -> Response:
    wiring.current().ranker.activate(eventId)  # the join activates every slot of the event
    return Response(status_code=204)


@router.get("/configurations/service", response_model=ServiceConfiguration)
def get_service_configuration() -> Response:
    return json_response(wiring.current().config_store.service().model_dump())


@router.put(
    "/configurations/service",
    response_model=ServiceConfiguration,
    responses=error_responses(400),
)
def put_service_configuration(config: ServiceConfiguration) -> Response:
    app = wiring.current()
    stored = app.config_store.put_service(config)
    app.serving.refresh_config()  # this instance at once; others within CONFIG_CACHE_SECONDS
    return json_response(stored.model_dump())


@router.get("/configurations/policy", response_model=PolicyContract)
def get_policy() -> Response:
    return json_response(wiring.current().config_store.policy().contract().model_dump())


@router.put("/configurations/policy", response_model=PolicyContract, responses=error_responses(400))
def put_policy(contract: PolicyContract) -> Response:
    try:
        policy = wiring.current().apply_policy(contract)
    except PolicyError as exc:
        raise bad_request(str(exc), target="arguments") from exc
    return json_response(policy.contract().model_dump())


@router.delete("/configurations/policy", response_model=PolicyContract)
def reset_policy() -> Response:
    app = wiring.current()
    policy = app.config_store.reset_policy()
    app.serving.refresh_config()
    return json_response(policy.contract().model_dump())
