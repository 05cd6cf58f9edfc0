"""Connections resolve both ways the Functions host accepts: a connection string, or identity-based
`<NAME>__…` settings. Nothing here talks to Azure (clients connect lazily)."""

from __future__ import annotations

import pytest

from shared import connections, wiring
from shared.events.eventhubs_publisher import EventHubsPublisher
from shared.events.publisher import make_publisher
from shared.events.queue_publisher import QueueStandInPublisher
from shared.settings import get_settings


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AzureWebJobsStorage", "COSMOS_CONNECTION", "EventHubConnection"):
        monkeypatch.delenv(name, raising=False)
    wiring.reset()


def test_storage_by_account_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage__accountName", "offersstore")
    conn = connections.storage_connection("AzureWebJobsStorage")
    assert conn.uses_identity
    assert conn.endpoint == "https://offersstore.blob.core.windows.net"
    assert conn.queue_endpoint == "https://offersstore.queue.core.windows.net"


def test_storage_by_service_uris_and_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage__blobServiceUri", "https://b.example")
    monkeypatch.setenv("AzureWebJobsStorage__queueServiceUri", "https://q.example")
    conn = connections.storage_connection("AzureWebJobsStorage")
    assert (conn.endpoint, conn.queue_endpoint) == ("https://b.example", "https://q.example")
    with pytest.raises(connections.ConnectionMissing):
        connections.storage_connection("NoSuchConnection")


def test_cosmos_by_endpoint_uses_managed_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ManagedIdentityCredential

    monkeypatch.setenv("COSMOS_CONNECTION__accountEndpoint", "https://acct.documents.azure.com")
    monkeypatch.setenv("COSMOS_CONNECTION__credential", "managedidentity")
    monkeypatch.setenv("COSMOS_CONNECTION__clientId", "00000000-0000-0000-0000-000000000001")
    conn = connections.cosmos_connection("COSMOS_CONNECTION")
    assert conn.uses_identity and conn.endpoint == "https://acct.documents.azure.com"
    assert isinstance(connections.credential_for("COSMOS_CONNECTION"), ManagedIdentityCredential)


def test_cosmos_connection_string_parts() -> None:
    parts = connections.parse_connection_string("AccountEndpoint=http://h:8081/;AccountKey=a2V5;")
    assert parts == {"AccountEndpoint": "http://h:8081/", "AccountKey": "a2V5"}


def test_the_stand_in_is_chosen_by_setting_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_TRANSPORT", "storage-queues")
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    publisher = make_publisher(get_settings(), wiring.Wiring().queue_service)
    try:
        assert isinstance(publisher, QueueStandInPublisher)
    finally:
        publisher.close()


def test_a_missing_hub_connection_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Event Hubs is the default transport; without its connection nothing falls back to queues:
    start-up reports it and building the publisher raises."""
    monkeypatch.delenv("EVENT_TRANSPORT", raising=False)
    settings = get_settings()
    assert settings.event_transport == "eventhubs"
    assert any("EventHubConnection" in p for p in wiring.startup_problems(settings))
    with pytest.raises(connections.ConnectionMissing, match="EventHubConnection"):
        make_publisher(settings)


def test_an_unknown_transport_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="EVENT_TRANSPORT"):
        get_settings()


def test_publisher_uses_buffered_event_hubs_with_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_TRANSPORT", "eventhubs")
    monkeypatch.setenv("EventHubConnection__fullyQualifiedNamespace", "ns.servicebus.windows.net")
    assert wiring.startup_problems(get_settings()) == []
    publisher = make_publisher(get_settings())
    assert isinstance(publisher, EventHubsPublisher)
    producer = publisher._producer("decisions")
    assert producer._buffered_mode is True
    assert producer.eventhub_name == "decisions"
    assert producer._address.hostname == "ns.servicebus.windows.net"
