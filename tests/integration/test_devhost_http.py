"""devhost's HTTP surface in-process: the ASGI app, the plain-route adapter, prefix and CORS."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp

from devhost.asgi import build
from devhost.http_adapter import route_path
from tests.fixtures.devhost_support import fixture_index


class Client:
    """Requests straight into an ASGI app, no server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://devhost") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(send())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def test_route_templates_become_starlette_paths() -> None:
    assert route_path("api", "plain/{name}", "f") == "/api/plain/{name}"
    assert route_path("api", "items/{id:int}", "f") == "/api/items/{id:int}"
    assert route_path("api", "files/{*rest}", "f") == "/api/files/{rest:path}"
    assert route_path("api", "users/{id:guid}/{tab?}", "f") == "/api/users/{id}/{tab}"
    assert route_path("", "hello", "f") == "/hello"
    assert route_path("api", None, "my_function") == "/api/my_function"


def test_asgi_app_plain_routes_and_the_route_prefix() -> None:
    client = Client(build(fixture_index(), "api", {}))
    assert client.get("/api/ping").json() == {"pong": True}
    plain = client.get("/api/plain/there")
    assert (plain.status_code, plain.text) == (200, "hello there")
    assert plain.headers["content-type"].startswith("text/plain")
    assert client.post("/api/plain/there").status_code in (404, 405)  # GET only
    assert client.get("/api/unknown").status_code == 404  # the FastAPI app's own 404
    # Only routePrefix paths reach the `/{*route}` function in Azure; same here.
    assert client.get("/ping").status_code == 404


def test_cors_from_local_settings_host_section() -> None:
    client = Client(build(fixture_index(), "api", {"CORS": "*"}))
    response = client.get("/api/ping", headers={"Origin": "http://shop.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    plain = Client(build(fixture_index(), "api", {}))
    assert (
        "access-control-allow-origin"
        not in plain.get("/api/ping", headers={"Origin": "http://shop.example"}).headers
    )


def test_the_cors_fast_path_answers_as_starlettes_cors() -> None:
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import Response

    from devhost.asgi import SameOriginFastCORS

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        vary = {"Vary": "Accept-Encoding"} if scope["path"] == "/vary" else None
        await Response(b"{}", 201, vary, media_type="application/json")(scope, receive, send)

    options: dict[str, Any] = {"allow_origins": ["*"], "allow_methods": ["*"]}
    fast = Client(SameOriginFastCORS(inner, **options))
    reference = Client(CORSMiddleware(inner, **options))
    for path in ("/plain", "/vary"):
        for headers in ({}, {"Origin": "http://shop.example"}):
            ours, theirs = fast.get(path, headers=headers), reference.get(path, headers=headers)
            assert ours.status_code == theirs.status_code == 201
            assert ours.headers.multi_items() == theirs.headers.multi_items()
            assert "Origin" in ours.headers["vary"]
