"""Queue clients for a binding's `connection` setting, resolved as the host does by
shared/connections.py (the one connection code path of the app, devhost and devstack): a
connection string in NAME, or identity-based NAME__queueServiceUri / NAME__accountName."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, QueueServiceClient

from shared.connections import ConnectionMissing, queue_service_client

__all__ = [
    "DEFAULT_CONNECTION",
    "ConnectionMissing",
    "describe",
    "queue_client",
    "queue_name",
    "queue_service",
    "receive_batch",
]

DEFAULT_CONNECTION = "AzureWebJobsStorage"
_QUEUE_NAME = re.compile(r"^(?=.{3,63}$)(?!.*--)[a-z0-9][a-z0-9-]*[a-z0-9]$")

_lock = threading.Lock()
_services: dict[str, QueueServiceClient] = {}


def queue_name(raw: str) -> str:
    """The host lower-cases queue names and refuses invalid ones at startup."""
    name = raw.lower()
    if not _QUEUE_NAME.match(name):
        raise ValueError(f"invalid queue name {raw!r} (3-63 of a-z, 0-9, single dashes)")
    return name


def describe(exc: Exception) -> str:
    """The first line of an SDK error; the rest is the XML response body."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def queue_service(connection: str | None = None) -> QueueServiceClient:
    """One client per connection for the process: clients per call exhaust sockets.

    Raises ConnectionMissing when the connection is not set (the host refuses the function)."""
    name = connection or DEFAULT_CONNECTION
    with _lock:
        if name not in _services:
            _services[name] = queue_service_client(name)
        return _services[name]


def queue_client(name: str, connection: str | None = None, create: bool = True) -> QueueClient:
    """A client for queue `name`; created if missing, as the host's listener does."""
    client = queue_service(connection).get_queue_client(name)
    if create:
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
    return client


def receive_batch(client: QueueClient, count: int, visibility_seconds: int) -> list[Any]:
    """One receive request for up to `count` (max 32) messages; the pager would ask again."""
    pages = client.receive_messages(
        messages_per_page=count, max_messages=count, visibility_timeout=max(1, visibility_seconds)
    ).by_page()
    return list(next(pages, []))
