"""Queue clients for a binding's `connection` setting, as the host resolves it: a connection
string in NAME, or identity-based NAME__queueServiceUri / NAME__accountName."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, QueueServiceClient

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


def _identity(name: str) -> Any:
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    client_id = os.environ.get(f"{name}__clientId") or None
    if os.environ.get(f"{name}__credential", "").lower() == "managedidentity":
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


def _make_service(name: str) -> QueueServiceClient:
    if conn := os.environ.get(name, "").strip():
        return QueueServiceClient.from_connection_string(conn)
    account = os.environ.get(f"{name}__accountName", "").strip()
    url = os.environ.get(f"{name}__queueServiceUri", "").strip() or (
        f"https://{account}.queue.core.windows.net" if account else ""
    )
    if not url:
        raise LookupError(f"storage connection '{name}' is not set ({name} or {name}__accountName)")
    return QueueServiceClient(url, credential=_identity(name))


def queue_service(connection: str | None = None) -> QueueServiceClient:
    """One client per connection for the process: clients per call exhaust sockets."""
    name = connection or DEFAULT_CONNECTION
    with _lock:
        if name not in _services:
            _services[name] = _make_service(name)
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
