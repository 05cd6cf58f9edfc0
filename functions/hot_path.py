"""The hot routes without FastAPI's per-request layers: a small ASGI dispatcher in front of the app.

Rank, reward, activate (single- and multi-slot) and POST /api/offers are called on every page view.
FastAPI's routing, request objects, dependency solving and exception middleware cost more than the
engine's own work (see docs/benchmarks.md), so these routes are answered here, on the exact paths
FastAPI serves them on (every Personalizer base path), with the same guards (API keys, body limit),
the same body parsing (`JsonBody.parse_bytes`: the same pydantic models and error codes), the same
engine calls (`wiring.current().ranker`, `.offers`) and the same answers (functions/http_io.py).
Everything else, and any request on these paths this module does not take (a trailing slash, an
event id out of bounds, another method), goes to FastAPI untouched. The routes stay declared in
functions/personalizer_routes.py and offers_routes.py, so the OpenAPI document is FastAPI's.
tests/integration/test_hot_path.py checks both doors answer byte for byte alike.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from functions.http_io import (
    crash_response,
    error_response,
    misconfigured_response,
)
from functions.middleware import (
    BodyTooLarge,
    read_body,
    too_large,
)
from functions.offers_routes import BODY as OFFERS_BODY
from functions.personalizer_routes import (
    BASE_PATHS,
    MULTI_SLOT_RANK_BODY,
    MULTI_SLOT_REWARD_BODY,
    RANK_BODY,
    REWARD_BODY,
)
from shared import wiring
from shared.auth import KeyRing
from shared.connections import ConnectionMissing
from shared.contracts import MAX_ID_LENGTH
from shared.errors import ApiError
from shared.settings import Settings

# (body, content type) -> status and JSON body; raises ApiError like the FastAPI routes
Handler = Callable[[bytes, str, str], Awaitable[tuple[int, bytes]]]

_JSON_HEADER = (b"content-type", b"application/json")
OFFERS_PATH = "/api/offers"  # functions/offers_routes.py post_offers, under the /api prefix
_EVENT_PATH = re.compile(
    r"(?P<base>.+?)(?P<multi>/multislot)?/events/(?P<id>[^/]+)/(?P<verb>reward|activate)"
)


async def _empty_receive() -> dict[str, str]:
    return {"type": "http.disconnect"}


class HotPath:
    """ASGI app: serves POST rank/reward/activate itself, hands everything else to `app`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.max_request_bytes
        # the same check ApiKeyMiddleware makes (functions/api.py installs it with keys only)
        keys = KeyRing.from_settings(settings)
        self.keys = None if keys.open else keys
        self.rank_paths = frozenset(base + "/rank" for base in BASE_PATHS)
        self.multi_slot_rank_paths = frozenset(base + "/multislot/rank" for base in BASE_PATHS)
        self.bases = frozenset(BASE_PATHS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # as Starlette routes: below the root path
            path = path[len(root) :]
        if path in self.rank_paths:
            await self._serve(scope, receive, send, _rank, "")
            return
        if path in self.multi_slot_rank_paths:
            await self._serve(scope, receive, send, _rank_multi_slot, "")
            return
        if path == OFFERS_PATH:
            await self._serve(scope, receive, send, _offers, "")
            return
        if "/events/" in path and (match := _EVENT_PATH.fullmatch(path)):
            event_id = match["id"]
            if match["base"] in self.bases and len(event_id) <= MAX_ID_LENGTH:
                if match["verb"] == "activate":
                    verb = _activate  # a multi-slot event is activated by its id, as single-slot
                else:
                    verb = _reward_multi_slot if match["multi"] else _reward
                await self._serve(scope, receive, send, verb, event_id)
                return
        await self.app(scope, receive, send)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, handler: Handler, event_id: str
    ) -> None:
        # the order of FastAPI's middleware: the key (outermost), then the body limit
        if self.keys is not None:
            refused = self.keys.authorize(scope["method"], scope["path"], dict(scope["headers"]))
            if refused is not None:
                await error_response(refused)(scope, receive, send)
                return
        try:
            body = await read_body(scope, receive, self.limit)
        except BodyTooLarge:
            await error_response(too_large(self.limit))(scope, _empty_receive, send)
            return
        if body is None:  # the client went away
            return
        content_type = ""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
                break
        try:
            status, payload = await handler(body, content_type, event_id)
        except ApiError as exc:
            await error_response(exc)(scope, receive, send)
            return
        except ConnectionMissing as exc:
            await misconfigured_response(exc)(scope, receive, send)
            return
        except Exception:
            await crash_response(scope["method"], scope["path"])(scope, receive, send)
            return
        if status == 204:
            headers: list[tuple[bytes, bytes]] = []
        else:
            headers = [(b"content-length", str(len(payload)).encode()), _JSON_HEADER]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


async def _rank(body: bytes, content_type: str, _: str) -> tuple[int, bytes]:
    request = RANK_BODY.parse_bytes(body, "POST", content_type)
    outcome = wiring.current().ranker.rank(request)
    return 201, orjson.dumps(outcome.response)  # as json_response encodes it


async def _reward(body: bytes, content_type: str, event_id: str) -> tuple[int, bytes]:
    request = REWARD_BODY.parse_bytes(body, "POST", content_type)
    wiring.current().ranker.reward(event_id, request.value)
    return 204, b""


async def _rank_multi_slot(body: bytes, content_type: str, _: str) -> tuple[int, bytes]:
    request = MULTI_SLOT_RANK_BODY.parse_bytes(body, "POST", content_type)
    return 201, orjson.dumps(wiring.current().ranker.rank_multi_slot(request))


async def _reward_multi_slot(body: bytes, content_type: str, event_id: str) -> tuple[int, bytes]:
    request = MULTI_SLOT_REWARD_BODY.parse_bytes(body, "POST", content_type)
    rewards = [(r.slotId, r.value) for r in request.reward]
    wiring.current().ranker.reward_slots(event_id, rewards)
    return 204, b""


async def _activate(body: bytes, content_type: str, event_id: str) -> tuple[int, bytes]:
    wiring.current().ranker.activate(event_id)  # no body, as the FastAPI route reads none
    return 204, b""


async def _offers(body: bytes, content_type: str, _: str) -> tuple[int, bytes]:
    request = OFFERS_BODY.parse_bytes(body, "POST", content_type)
    # The profile read waits on Cosmos (up to its timeout): in a worker thread, as in
    # offers_routes.post_offers, so one slow read does not hold up the worker's other requests.
    answer = await run_in_threadpool(wiring.current().offers.offers, request)
    return 200, orjson.dumps(answer)  # as json_response does
