"""Import the app object and list its functions from the app's own metadata (worker indexing).

Nothing here knows the project's functions: a new blueprint shows up through `get_functions()`.
"""

from __future__ import annotations

import enum
import importlib
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

HTTP = "httpTrigger"
QUEUE = "queueTrigger"
TIMER = "timerTrigger"
EVENT_HUB = "eventHubTrigger"
SUPPORTED = (HTTP, QUEUE, TIMER, EVENT_HUB)
# Output bindings the host fills from the HTTP return value need no help from devhost.
_IMPLICIT_BINDINGS = {"http"}


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    trigger_type: str
    binding_name: str
    trigger: dict[str, Any]  # get_dict_repr() with enums turned into their values
    user_function: Callable[..., Any]
    extra_bindings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppIndex:
    functions: list[FunctionSpec]
    asgi_app: Any | None = None  # the ASGI app behind AsgiFunctionApp, served directly
    asgi_function: str | None = None
    skipped: list[str] = field(default_factory=list)

    def of_type(self, trigger_type: str) -> list[FunctionSpec]:
        return [f for f in self.functions if f.trigger_type == trigger_type]


def import_app(target: str) -> Any:
    """Import the FunctionApp named "module:attribute", with the app directory importable."""
    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app", None)
    if app is None or not hasattr(app, "get_functions"):
        raise SystemExit(f"{target}: no FunctionApp object (expected module:attribute)")
    return app


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _asgi_app(app: Any) -> Any | None:
    """AsgiFunctionApp keeps its AsgiMiddleware in `.middleware`; WSGI apps get the adapter."""
    middleware = getattr(app, "middleware", None)
    if type(middleware).__name__ != "AsgiMiddleware":
        return None
    return getattr(middleware, "_app", None)


def index_app(app: Any) -> AppIndex:
    functions: list[FunctionSpec] = []
    skipped: list[str] = []
    asgi_app = _asgi_app(app)
    asgi_function: str | None = None
    for function in app.get_functions():
        name = function.get_function_name()
        trigger = _plain(function.get_trigger().get_dict_repr())
        kind = trigger.get("type", "?")
        if kind not in SUPPORTED:
            log.warning(
                "function '%s': trigger type '%s' is not run by devhost; skipped", name, kind
            )
            skipped.append(name)
            continue
        extras = tuple(
            sorted(
                b["type"]
                for b in (_plain(b.get_dict_repr()) for b in function.get_bindings())
                if b["name"] != trigger["name"] and b["type"] not in _IMPLICIT_BINDINGS
            )
        )
        if extras:
            log.warning("function '%s': bindings %s are not provided by devhost", name, extras)
        spec = FunctionSpec(
            name, kind, trigger["name"], trigger, function.get_user_function(), extras
        )
        functions.append(spec)
        if kind == HTTP and asgi_app is not None and trigger.get("route") == "/{*route}":
            asgi_function = name
    return AppIndex(functions, asgi_app if asgi_function else None, asgi_function, skipped)


def load_index(target: str) -> AppIndex:
    return index_app(import_app(target))
