"""Azure: one buffered EventHubProducerClient per hub. The SDK batches per partition in the
background; the partition key keeps an event's (or a user's) records in order."""

from __future__ import annotations

import logging
import threading
from typing import Any

from shared.connections import Connection, credential_for

log = logging.getLogger(__name__)


class EventHubsPublisher:
    """Azure: one buffered EventHubProducerClient per hub."""

    def __init__(self, connection: Connection, capacity: int = 20_000) -> None:
        self._connection = connection
        self._capacity = capacity
        self._producers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._sent = 0
        self._failures = 0

    def _producer(self, hub: str) -> Any:
        producer = self._producers.get(hub)
        if producer is not None:
            return producer
        from azure.eventhub import EventHubProducerClient

        with self._lock:
            if hub in self._producers:
                return self._producers[hub]
            options: dict[str, Any] = {
                "eventhub_name": hub,
                "buffered_mode": True,
                "on_success": self._on_success,
                "on_error": lambda events, pid, error: self._on_error(hub, events, error),
                "max_buffer_length": self._capacity,
                "max_wait_time": 0.2,
            }
            if self._connection.uses_identity:
                producer = EventHubProducerClient(
                    fully_qualified_namespace=self._connection.endpoint,
                    credential=credential_for(self._connection.name),
                    **options,
                )
            else:
                producer = EventHubProducerClient.from_connection_string(
                    self._connection.connection_string, **options
                )
            self._producers[hub] = producer
            return producer

    def _on_success(self, events: list[Any], partition_id: str | None) -> None:
        self._sent += len(events)

    def _on_error(self, hub: str, events: list[Any], error: Exception) -> None:
        # The SDK has already retried; put the events back rather than lose them.
        log.warning("event hub send to %s failed (%s): re-enqueueing %d", hub, error, len(events))
        self._failures += 1
        for event in events:
            self._producers[hub].send_event(event, partition_key=event.partition_key)

    def publish(self, hub: str, body: bytes, partition_key: str) -> None:
        from azure.eventhub import EventData

        self._producer(hub).send_event(EventData(body), partition_key=partition_key)

    def flush(self, timeout: float = 30.0) -> bool:
        for producer in list(self._producers.values()):
            producer.flush(timeout=timeout)
        return True

    def close(self) -> None:
        for producer in list(self._producers.values()):
            producer.close(flush=True)

    def stats(self) -> dict[str, int]:
        pending = sum(p.total_buffered_event_count for p in self._producers.values())
        return {
            "sent": self._sent,
            "pending": pending,
            "dropped": 0,
            "sendFailures": self._failures,
        }
