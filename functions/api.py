"""The HTTP app: one FastAPI app, served by the Functions host through AsgiFunctionApp.

The API lives under /api; host.json routePrefix is "" so the web pages at / and /store reach the
app too (functions/web_routes.py). This module builds the app: routers, error
mapping, middleware and the OpenAPI document. Routers never import it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp

from functions import (
    activity_routes,
    catalog_routes,
    evaluation_routes,
    health_routes,
    insights_routes,
    model_routes,
    offers_routes,
    personalizer_routes,
    simulation_routes,
    web_routes,
)
from functions.hot_path import HotPath
from functions.http_io import (
    content_type_error,
    crash_response,
    error_response,
    error_responses,
    misconfigured_response,
    validation_message,
)
from functions.middleware import ApiKeyMiddleware, BodyLimitMiddleware
from shared.auth import KeyRing, route_role
from shared.connections import ConnectionMissing
from shared.contracts import ErrorResponse
from shared.errors import ApiError
from shared.settings import get_settings
from shared.wiring import startup_problems

log = logging.getLogger(__name__)
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def create_api() -> FastAPI:
    for problem in startup_problems():
        log.error("configuration: %s", problem)
    api = FastAPI(
        title="Personalized offers",
        description="Self-hosted, Personalizer-compatible Rank/Reward service and offers API.",
        version="1.0.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    _map_errors(api)
    api.include_router(web_routes.router)
    api.include_router(health_routes.router, prefix="/api")
    api.include_router(simulation_routes.router, prefix="/api")
    api.include_router(catalog_routes.router, prefix="/api")
    api.include_router(offers_routes.router, prefix="/api")
    api.include_router(activity_routes.router, prefix="/api")
    api.include_router(insights_routes.router, prefix="/api")
    for index, base in enumerate(personalizer_routes.BASE_PATHS):
        api.include_router(personalizer_routes.router, prefix=base, include_in_schema=index == 0)
        api.include_router(model_routes.router, prefix=base, include_in_schema=index == 0)
        api.include_router(evaluation_routes.router, prefix=base, include_in_schema=index == 0)
    settings = get_settings()
    api.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    keys = KeyRing.from_settings(settings)
    if not keys.open:
        api.add_middleware(ApiKeyMiddleware, keys=keys)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    return api


def create_app() -> ASGIApp:
    """What the host serves: the hot routes' fast path (functions/hot_path.py) in front of the
    FastAPI app, which answers everything else and owns the OpenAPI document."""
    return HotPath(create_api(), get_settings())


def _map_errors(api: FastAPI) -> None:
    """Every failure answers in the project's error body with a machine-readable code."""

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # Routes with a specific code parse their bodies with JsonBody; FastAPI validates the rest
        # (path and query parameters, plain bodies), all answered as BadRequest.
        if wrong_type := content_type_error(request):
            return error_response(ApiError(400, "BadRequest", wrong_type))
        message, target = validation_message(exc.errors())
        return error_response(ApiError(400, "BadRequest", message, target))

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "ResourceNotFound", 405: "MethodNotAllowed"}
        message = (
            f"no route for {request.method} {request.url.path}"
            if exc.status_code in codes
            else str(exc.detail)
        )
        response = error_response(
            ApiError(exc.status_code, codes.get(exc.status_code, "Error"), message)
        )
        for name, value in (exc.headers or {}).items():  # e.g. Allow on a 405
            response.headers[name] = value
        if exc.status_code == 405:  # Starlette's names the first route's methods only
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @api.exception_handler(ConnectionMissing)
    async def misconfigured(request: Request, exc: ConnectionMissing) -> Response:
        return misconfigured_response(exc)

    @api.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        return crash_response(request.method, request.url.path)


def _openapi(api: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with the inline schemas of JsonBody routes moved into components."""
    if api.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=api.title, version=api.version, description=api.description, routes=api.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                content = operation.get("requestBody", {}).get("content", {})
                for media in content.values():
                    body = media.get("schema", {})
                    if "title" in body and "$ref" not in body:
                        components.update(body.pop("$defs", {}))
                        components[body["title"]] = body
                        media["schema"] = {"$ref": f"#/components/schemas/{body['title']}"}
        _declare_common_errors(schema)
        api.openapi_schema = schema
    return api.openapi_schema


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path: each is tried against the routes, as the
    router itself would (FastAPI nests included routers, so the routes are not a flat list)."""
    allowed = [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _declare_common_errors(schema: dict[str, Any]) -> None:
    """The answers every route can give besides its own, so the document names them all: 400 for
    parameters or a body that fail validation (never FastAPI's 422, which this app does not send),
    401/403 when keys are configured (shared/auth.py), 413 over the body limit
    (functions/middleware.py) and 503 when a store's connection is missing."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            statuses = [503]
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.append(400)
            role = route_role(method.upper(), path)
            statuses += [401] if role == "client" else [401, 403] if role == "admin" else []
            if method in ("post", "put", "patch"):
                statuses.append(413)
            for status, spec in error_responses(*statuses).items():
                if str(status) not in responses:
                    responses[str(status)] = {
                        "description": spec["description"],
                        "content": {"application/json": {"schema": ERROR_REF}},
                    }
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    error = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error.pop("$defs", {}))
    components.setdefault("ErrorResponse", error)
