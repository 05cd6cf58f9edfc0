"""POST /api/activity: one event or a batch (up to 500), validated per item, published to the
`activity` hub off the request path; events carrying a decision's eventId also become rewards."""

from __future__ import annotations

import time
from functools import lru_cache

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from functions.http_io import content_type_error, error_responses, json_response
from shared import wiring
from shared.activity.events import MAX_BATCH, ActivityEvent, validate_batch
from shared.activity.rewards import parse_map, rewards_of
from shared.errors import ApiError, bad_request

router = APIRouter(tags=["activity"])
CODE = "InvalidActivity"
_EVENT = ActivityEvent.model_json_schema()


@lru_cache(maxsize=4)
def _reward_map(text: str) -> dict[str, float]:
    return parse_map(text)


@router.post(
    "/activity",
    status_code=202,
    summary="Shopper activity: one event or a list of up to 500; per-item errors",
    responses=error_responses(400, 413, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _EVENT,
                            {
                                "type": "array",
                                "items": _EVENT,
                                "minItems": 1,  # an empty list is refused
                                "maxItems": MAX_BATCH,
                            },
                        ]
                    }
                }
            },
        }
    },
)
async def post_activity(request: Request) -> Response:
    if wrong := content_type_error(request):
        raise bad_request(wrong, code=CODE)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Malformed JSON: {exc}", code=CODE) from exc
    items = body if isinstance(body, list) else [body]
    if not items:
        raise bad_request("no events", code=CODE)
    if len(items) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} events per request (got {len(items)})", code=CODE)
    accepted, rejected = validate_batch(items, time.time())
    if not accepted:
        raise ApiError(400, CODE, "no valid event", details=[
            {"code": CODE, "message": r["reason"], "target": f"[{r['index']}]"} for r in rejected
        ])  # fmt: skip
    app = wiring.current()
    hub = app.settings.activity_hub
    for event in accepted:
        app.publisher.publish(hub, orjson.dumps(event), str(event["userId"]))
    for event_id, value, reward_id in rewards_of(
        accepted, _reward_map(app.settings.activity_rewards)
    ):
        app.ranker.reward(event_id, value, reward_id)
    return json_response(
        {"accepted": len(accepted), "ids": [e["id"] for e in accepted], "rejected": rejected}, 202
    )
