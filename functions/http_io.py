"""Request and response helpers for the routes: JSON answers, error answers, and JSON bodies
parsed with orjson + pydantic (about half the cost of FastAPI's stdlib-json body parsing), each
declared with its own error code and documented in the OpenAPI document.

Routers import from here, never from the app (functions/api.py imports the routers)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from shared.contracts import ErrorResponse
from shared.errors import ApiError

log = logging.getLogger("functions.api")  # the app's logger, whichever door answered
JSON_MEDIA = "application/json"
M = TypeVar("M", bound=BaseModel)

_ERROR_TEXT = {
    400: "Invalid request",
    401: "Missing or wrong key",
    403: "An admin route called with a client key",
    404: "Not found",
    413: "Body too large",
    503: "A dependency is down or not configured",
}


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(content), status_code, headers, media_type=JSON_MEDIA)


def error_response(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status, {"x-ms-error-code": exc.code})


def misconfigured_response(exc: Exception) -> Response:
    log.error("configuration: %s", exc)
    return error_response(ApiError(503, "ServiceMisconfigured", str(exc)))


def crash_response(method: str, path: str) -> Response:
    """Logs the exception being handled; the body says nothing about it."""
    log.exception("unhandled error on %s %s", method, path)
    return error_response(ApiError(500, "InternalServerError", "internal error"))


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route's error answers, all in the project's error body."""
    return {
        s: {"model": ErrorResponse, "description": _ERROR_TEXT.get(s, "Error")} for s in statuses
    }


def content_type_error(request: Request) -> str | None:
    return content_type_problem(request.method, request.headers.get("content-type", ""))


def content_type_problem(method: str, content_type: str) -> str | None:
    if method in ("POST", "PUT", "PATCH") and "json" not in content_type.lower():
        return f"Content-Type must be {JSON_MEDIA} (got {content_type or 'none'})"
    return None


def validation_message(errors: Sequence[Any]) -> tuple[str, str | None]:
    """A one-line message and the dotted path of the first problem, from pydantic's errors."""
    first = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    target = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return f"Malformed JSON: {first.get('ctx', {}).get('error', 'cannot parse body')}", None
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    return f"{target + ': ' if target else ''}{message}", target


class JsonBody(Generic[M]):
    """A route's JSON body: its model and the error code its 400s carry (Personalizer has
    specific ones, e.g. InvalidRankRequest). `openapi` goes in the route's `openapi_extra`."""

    def __init__(self, model: type[M], error_code: str = "BadRequest") -> None:
        self.model = model
        self.error_code = error_code
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        # functions/api.py moves the schema and its $defs into components and leaves a $ref.
        self.openapi: dict[str, Any] = {
            "requestBody": {"required": True, "content": {JSON_MEDIA: {"schema": schema}}}
        }

    async def parse(self, request: Request) -> M:
        body = await request.body()
        return self.parse_bytes(body, request.method, request.headers.get("content-type", ""))

    def parse_bytes(self, body: bytes, method: str, content_type: str) -> M:
        """The body as the model, or ApiError(400, error_code); the hot path calls this too."""
        try:
            if wrong_type := content_type_problem(method, content_type):
                raise ApiError(400, self.error_code, wrong_type)
            return self.model.model_validate(orjson.loads(body))
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, self.error_code, f"Malformed JSON: {exc}") from exc
        except ValidationError as exc:
            message, target = validation_message(exc.errors())
            raise ApiError(400, self.error_code, message, target) from exc
