"""Pure-ASGI middleware: a request-size guard and the optional API key. Pure ASGI (not
Starlette's BaseHTTPMiddleware) so that responses are not wrapped and re-streamed."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.http_io import error_response
from shared.auth import KeyRing
from shared.errors import ApiError


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


class BodyTooLarge(Exception):
    """The body is over the limit (announced by Content-Length or seen while streaming)."""


def too_large(limit: int) -> ApiError:
    return ApiError(413, "PayloadSizeExceeded", f"request body exceeds the limit of {limit} bytes")


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None if the client went away; raises BodyTooLarge. Shared by
    the middleware and the hot path (functions/hot_path.py), so both refuse the same bodies."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge
    message = await receive()  # usually the whole body in one message
    if message["type"] == "http.disconnect":
        return None
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise BodyTooLarge
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the connection's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class BodyLimitMiddleware:
    """Answers 413 for bodies over the limit, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(scope, receive, self.limit)
        except BodyTooLarge:
            await error_response(too_large(self.limit))(scope, _empty_receive, send)
            return
        if body is None:
            return
        await self.app(scope, replaying(body, receive), send)


class ApiKeyMiddleware:
    """Client and admin keys (shared/auth.py). Not installed when no key is configured."""

    def __init__(self, app: ASGIApp, keys: KeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.keys.authorize(scope["method"], scope["path"], dict(scope["headers"]))
            if refused is not None:
                await error_response(refused)(scope, receive, send)
                return
        await self.app(scope, receive, send)
