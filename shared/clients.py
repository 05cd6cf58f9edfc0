"""SDK clients: created once per worker, lazily; `reset()` forgets them (tests, new settings).

Every connection works two ways, as the Functions host's own bindings do:
- a connection string in `<NAME>` (local emulators), or
- identity-based settings `<NAME>__accountName` / `__blobServiceUri` / `__queueServiceUri`
  (storage), `<NAME>__fullyQualifiedNamespace` (Event Hubs), `<NAME>__accountEndpoint` (Cosmos),
  authenticated with a managed identity (`<NAME>__credential=managedidentity`, `<NAME>__clientId`)
  or DefaultAzureCredential.
Clients per call exhaust sockets, so everything here is cached until `reset()`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shared.settings import get_settings

if TYPE_CHECKING:
    from azure.cosmos import CosmosClient
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueServiceClient

from shared.connections import (
    Connection as Connection,
)
from shared.connections import (
    ConnectionMissing,
    cosmos_connection,
    parse_connection_string,
    storage_connection,
    transport,
)
from shared.connections import (
    credential_for as credential_for,
)
from shared.connections import eventhub_connection as _eventhub_connection

_lock = threading.RLock()  # factories may build other cached clients
_cache: dict[str, Any] = {}


def eventhub_connection(name: str) -> Connection | None:
    try:
        return _eventhub_connection(name)
    except ConnectionMissing:
        return None


def cached(key: str, factory: Any) -> Any:
    client = _cache.get(key)
    if client is None:
        with _lock:
            client = _cache.get(key)
            if client is None:
                client = factory()
                _cache[key] = client
    return client


def blob_service() -> BlobServiceClient:
    def make() -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient

        conn = storage_connection(get_settings().storage_connection_name)
        if conn.uses_identity:
            return BlobServiceClient(
                conn.endpoint, credential=credential_for(conn.name), transport=transport()
            )
        return BlobServiceClient.from_connection_string(
            conn.connection_string, transport=transport()
        )

    return cached("blob", make)  # type: ignore[no-any-return]


def queue_service() -> QueueServiceClient:
    def make() -> QueueServiceClient:
        from azure.storage.queue import QueueServiceClient

        conn = storage_connection(get_settings().storage_connection_name)
        if conn.uses_identity:
            return QueueServiceClient(
                conn.queue_endpoint, credential=credential_for(conn.name), transport=transport()
            )
        return QueueServiceClient.from_connection_string(
            conn.connection_string, transport=transport()
        )

    return cached("queue", make)  # type: ignore[no-any-return]


def cosmos_client() -> CosmosClient:
    def make() -> CosmosClient:
        from azure.cosmos import CosmosClient

        conn = cosmos_connection(get_settings().cosmos_connection_name)
        if conn.uses_identity:
            return CosmosClient(
                conn.endpoint, credential=credential_for(conn.name), transport=transport()
            )
        parts = parse_connection_string(conn.connection_string)
        endpoint, key = parts.get("AccountEndpoint", ""), parts.get("AccountKey", "")
        # The local emulator speaks plain http and advertises an https location: following it
        # fails (WRONG_VERSION_NUMBER), so discovery is off for http endpoints only.
        local = endpoint.startswith("http://")
        return CosmosClient(
            endpoint, credential=key, enable_endpoint_discovery=not local, transport=transport()
        )

    return cached("cosmos", make)  # type: ignore[no-any-return]


def reset() -> None:
    """Forget every cached client (tests, and after settings change)."""
    with _lock:
        _cache.clear()
