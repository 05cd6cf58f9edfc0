"""Plain `@app.route` functions over ASGI: Starlette request -> func.HttpRequest -> the user
function -> func.HttpResponse -> Starlette response. Routes sit under the host's routePrefix."""

from __future__ import annotations

import inspect
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devhost.app_index import FunctionSpec
from devhost.invoker import log_failure, log_invocation

_CATCH_ALL = re.compile(r"\{\*(\w+)\}")
# Starlette knows int/float converters; other host constraints (alpha, guid, length()) and "?"
# are dropped, so such routes match more loosely than in Azure.
_PARAMETER = re.compile(r"\{(\w+)(?::(int|float))?(?::[^}]*)?\??\}")


def route_path(prefix: str, route: str | None, function_name: str) -> str:
    template = (route if route is not None else function_name).strip("/")
    template = _PARAMETER.sub(lambda m: "{" + m[1] + (":" + m[2] if m[2] else "") + "}", template)
    template = _CATCH_ALL.sub(r"{\1:path}", template)
    return "/" + "/".join(part for part in (prefix.strip("/"), template) if part)


def to_response(result: Any) -> Response:
    if isinstance(result, func.HttpResponse):
        return Response(
            result.get_body(),
            result.status_code,
            dict(result.headers),
            media_type=result.mimetype,
        )
    if result is None:
        return Response(status_code=204)
    return Response(result, 200, media_type="text/plain")


def endpoint(spec: FunctionSpec) -> Callable[[Request], Awaitable[Response]]:
    function = spec.user_function
    is_async = inspect.iscoroutinefunction(function)

    async def handle(request: Request) -> Response:
        http_request = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            params=dict(request.query_params),
            route_params={k: str(v) for k, v in request.path_params.items()},
            body=await request.body(),
        )
        kwargs = {spec.binding_name: http_request}
        invocation_id, started = str(uuid.uuid4()), time.perf_counter()
        try:
            if is_async:
                result = await function(**kwargs)
            else:
                result = await run_in_threadpool(function, **kwargs)
        except Exception as exc:
            log_failure(spec.name, invocation_id, exc)
            log_invocation(spec.name, False, started, invocation_id)
            return Response(status_code=500)  # the host answers a bare 500 too
        log_invocation(spec.name, True, started, invocation_id)
        return to_response(result)

    return handle


def routes(specs: list[FunctionSpec], prefix: str) -> list[Route]:
    result = []
    for spec in specs:
        methods = spec.trigger.get("methods") or None  # None: every method
        path = route_path(prefix, spec.trigger.get("route"), spec.name)
        result.append(Route(path, endpoint(spec), methods=methods, name=spec.name))
    return result
