"""Event publishing to the hubs (`activity`, `decisions`, `rewards`), off the request path.

`publish()` only enqueues: rank must not wait on the network. Two implementations behind one
interface, chosen by the EVENT_TRANSPORT setting and never by a missing connection:
- `eventhubs` (Azure): shared/events/eventhubs_publisher.py, the SDK's buffered producer;
- `storage-queues` (local): shared/events/queue_publisher.py, the stand-in devhost delivers.
Both retry failed sends; the buffer is bounded, and what overflows is counted as dropped.
Test doubles of this interface live under tests/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from shared.settings import Settings

if TYPE_CHECKING:
    from azure.storage.queue import QueueServiceClient


class EventPublisher(Protocol):
    def publish(self, hub: str, body: bytes, partition_key: str) -> None: ...

    def flush(self, timeout: float = 30.0) -> bool: ...

    def close(self) -> None: ...

    def stats(self) -> dict[str, int]: ...


def make_publisher(settings: Settings, queues: QueueServiceClient | None = None) -> EventPublisher:
    """The publisher EVENT_TRANSPORT names. `eventhubs` without a hub connection raises
    ConnectionMissing (surfaced by /api/health and as 503 on the routes that publish)."""
    if settings.event_transport == "storage-queues":
        from shared.events.queue_publisher import QueueStandInPublisher

        if queues is None:
            raise ValueError("the storage-queues transport needs a queue service client")
        return QueueStandInPublisher(
            queues, settings.hub_standin_queue_prefix, settings.publish_buffer_size
        )
    from shared.connections import eventhub_connection
    from shared.events.eventhubs_publisher import EventHubsPublisher

    connection = eventhub_connection(settings.eventhub_connection_name)
    return EventHubsPublisher(connection, settings.publish_buffer_size)
