"""How the app reaches Azure services: one code path for the app, devhost and the local stack.

Every connection works two ways, as the Functions host's own bindings do:
- a connection string in `<NAME>` (local emulators), or
- identity-based settings `<NAME>__accountName` / `__blobServiceUri` / `__queueServiceUri`
  (storage), `<NAME>__fullyQualifiedNamespace` (Event Hubs), `<NAME>__accountEndpoint` (Cosmos),
  authenticated with a managed identity (`<NAME>__credential=managedidentity`, `<NAME>__clientId`,
  else `AZURE_CLIENT_ID`) or DefaultAzureCredential.

The functions here build a new SDK client per call: callers keep them (shared/wiring.py does, once
per worker) because clients per call exhaust sockets. Connection settings are read from the
environment here, as the host reads its binding connections; everything else is in settings.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.cosmos import CosmosClient
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueServiceClient


class ConnectionMissing(RuntimeError):
    """Raised when neither a connection string nor identity settings are present."""


@dataclass(frozen=True)
class Connection:
    """A resolved connection: a connection string, or an endpoint plus a credential."""

    name: str
    connection_string: str = ""
    endpoint: str = ""
    queue_endpoint: str = ""

    @property
    def uses_identity(self) -> bool:
        return not self.connection_string


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def credential_for(name: str) -> TokenCredential:
    """The identity for connection `name`, following the Functions `__credential` convention."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    client_id = _env(f"{name}__clientId") or _env("AZURE_CLIENT_ID") or None
    if _env(f"{name}__credential").lower() == "managedidentity":
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


def storage_connection(name: str) -> Connection:
    if conn := _env(name):
        return Connection(name, connection_string=conn)
    account = _env(f"{name}__accountName")
    blob = _env(f"{name}__blobServiceUri") or (
        f"https://{account}.blob.core.windows.net" if account else ""
    )
    queue = _env(f"{name}__queueServiceUri") or (
        f"https://{account}.queue.core.windows.net" if account else ""
    )
    if not blob and not queue:
        raise ConnectionMissing(
            f"storage connection {name!r} is not set: set {name} (a "
            f"connection string) or {name}__accountName"
        )
    return Connection(name, endpoint=blob, queue_endpoint=queue)


def cosmos_connection(name: str) -> Connection:
    if conn := _env(name):
        return Connection(name, connection_string=conn)
    if endpoint := _env(f"{name}__accountEndpoint"):
        return Connection(name, endpoint=endpoint)
    raise ConnectionMissing(
        f"Cosmos connection {name!r} is not set: set {name} or {name}__accountEndpoint"
    )


def eventhub_connection(name: str) -> Connection:
    if conn := _env(name):
        return Connection(name, connection_string=conn)
    if namespace := _env(f"{name}__fullyQualifiedNamespace"):
        return Connection(name, endpoint=namespace)
    raise ConnectionMissing(
        f"Event Hubs connection {name!r} is not set: set {name} or {name}__fullyQualifiedNamespace"
    )


def parse_connection_string(conn: str) -> dict[str, str]:
    parts = (p.split("=", 1) for p in conn.split(";") if "=" in p)
    return {k.strip(): v.strip() for k, v in parts}


def transport() -> Any:
    """An HTTP transport for one SDK client. With no proxy configured, the requests session skips
    reading proxy and netrc settings from the environment on every call (measured: ~0.5 ms of CPU
    per Cosmos operation on these machines); with a proxy set, the default behaviour is kept."""
    import urllib.request

    import requests
    from azure.core.pipeline.transport import RequestsTransport

    session = requests.Session()
    session.trust_env = bool(urllib.request.getproxies())
    # One client serves every invocation thread of a worker (queue batches of 16 and more): a
    # pool of requests' default 10 connections discards the rest after each burst, with a warning.
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=True)


def blob_service_client(name: str) -> BlobServiceClient:
    from azure.storage.blob import BlobServiceClient

    conn = storage_connection(name)
    if not conn.uses_identity:
        return BlobServiceClient.from_connection_string(
            conn.connection_string, transport=transport()
        )
    if not conn.endpoint:
        raise ConnectionMissing(f"set {name}__blobServiceUri or {name}__accountName")
    return BlobServiceClient(conn.endpoint, credential=credential_for(name), transport=transport())


def queue_service_client(name: str) -> QueueServiceClient:
    from azure.storage.queue import QueueServiceClient

    conn = storage_connection(name)
    if not conn.uses_identity:
        return QueueServiceClient.from_connection_string(
            conn.connection_string, transport=transport()
        )
    if not conn.queue_endpoint:
        raise ConnectionMissing(f"set {name}__queueServiceUri or {name}__accountName")
    return QueueServiceClient(
        conn.queue_endpoint, credential=credential_for(name), transport=transport()
    )


def cosmos_client(name: str) -> CosmosClient:
    from azure.cosmos import CosmosClient

    conn = cosmos_connection(name)
    if conn.uses_identity:
        return CosmosClient(conn.endpoint, credential=credential_for(name), transport=transport())
    parts = parse_connection_string(conn.connection_string)
    endpoint, key = parts.get("AccountEndpoint", ""), parts.get("AccountKey", "")
    # The local emulator speaks plain http and advertises an https location: following it
    # fails (WRONG_VERSION_NUMBER), so discovery is off for http endpoints only.
    local = endpoint.startswith("http://")
    return CosmosClient(
        endpoint, credential=key, enable_endpoint_discovery=not local, transport=transport()
    )
