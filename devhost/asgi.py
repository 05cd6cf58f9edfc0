"""What each uvicorn worker serves: `uvicorn devhost.asgi:create_app --factory`.

Each worker loads the settings and imports the app itself. The ASGI app behind AsgiFunctionApp is
served directly (no HttpRequest round trip) for paths under the routePrefix, as the host's
`/{*route}` function would get them; plain `@app.route` functions go through the small adapter
and are matched first.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devhost import http_adapter
from devhost.app_index import HTTP, AppIndex, load_index
from devhost.host_config import load_host_config
from devhost.logs import configure_logging
from devhost.settings_loader import host_section, load_local_settings

APP_ENV = "DEVHOST_APP"
SETTINGS_ENV = "DEVHOST_SETTINGS"
HOST_JSON_ENV = "DEVHOST_HOST_JSON"


class HostDispatcher:
    def __init__(self, routes: list[Route], fallback: ASGIApp, fallback_prefix: str) -> None:
        self.routes = routes
        self.fallback = fallback
        self.prefix = "/" + fallback_prefix.strip("/") if fallback_prefix.strip("/") else ""

    def _reaches_fallback(self, path: str) -> bool:
        # In Azure only routePrefix paths reach the `/{*route}` function: keep that true locally.
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    await route.handle({**scope, **child}, receive, send)
                    return
            if not self._reaches_fallback(scope["path"]):
                await Response(status_code=404)(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


class SameOriginFastCORS(CORSMiddleware):
    """Starlette's CORS, with a cheap path for requests without an Origin header (servers and
    load generators, most of the hot routes' traffic): those only get `Vary: Origin` added, which
    is all Starlette's `simple_response` does for them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if any(name.lower() == b"vary" for name, _ in headers):
                    mutable = MutableHeaders(scope=message)  # as Starlette merges it
                    mutable["Vary"] = ", ".join([*mutable.getlist("Vary"), "Origin"])
                else:
                    message["headers"] = [*headers, (b"vary", b"Origin")]
            await send(message)

        await self.app(scope, receive, vary)


def build(index: AppIndex, route_prefix: str, host: dict[str, Any]) -> ASGIApp:
    plain = [f for f in index.of_type(HTTP) if f.name != index.asgi_function]
    fallback: ASGIApp = index.asgi_app if index.asgi_app is not None else Starlette()
    app: ASGIApp = HostDispatcher(http_adapter.routes(plain, route_prefix), fallback, route_prefix)
    origins = [o.strip() for o in str(host.get("CORS", "")).split(",") if o.strip()]
    if origins:  # local.settings.json "Host": {"CORS": ...}, as func start applies it
        app = SameOriginFastCORS(
            app,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=bool(host.get("CORSCredentials", False)),
        )
    return app


def create_app() -> ASGIApp:
    settings = os.environ.get(SETTINGS_ENV, "local.settings.json")
    load_local_settings(settings)
    configure_logging()
    logging.getLogger("devhost.app_index").setLevel(logging.ERROR)  # the host process warned
    config = load_host_config(os.environ.get(HOST_JSON_ENV, "host.json"))
    index = load_index(os.environ.get(APP_ENV, "function_app:app"))
    return build(index, config.route_prefix, host_section(settings))
