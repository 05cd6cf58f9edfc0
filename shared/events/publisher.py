"""Event publishing to the hubs (`activity`, `decisions`, `rewards`), off the request path.

`publish()` only enqueues: rank must not wait on the network. Two implementations behind one
interface:
- EventHubsPublisher: azure-eventhub's EventHubProducerClient in buffered mode (the SDK batches
  per partition in the background; the partition key keeps a user's or an event's records in
  order).
- QueueStandInPublisher: without an Event Hubs namespace, a bounded buffer drained by a thread
  into one Azurite queue per hub (shared/events/standin.py); the local host delivers those as hub
  batches.
Both retry failed sends; the buffer is bounded, and what overflows is counted as dropped.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from typing import Any, Protocol

from shared import clients
from shared.events import standin
from shared.settings import get_settings

log = logging.getLogger(__name__)


class EventPublisher(Protocol):
    def publish(self, hub: str, body: bytes, partition_key: str) -> None: ...

    def flush(self, timeout: float = 30.0) -> bool: ...

    def close(self) -> None: ...

    def stats(self) -> dict[str, int]: ...


class QueueStandInPublisher:
    """Local stand-in: a bounded buffer, a sender thread, one Azurite queue per hub."""

    def __init__(
        self, queue_prefix: str, capacity: int = 20_000, linger_seconds: float = 0.05
    ) -> None:
        self._prefix = queue_prefix
        self._capacity = capacity
        self._linger = linger_seconds
        self._buffer: deque[tuple[str, standin.StandInEvent]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._sent = 0
        self._dropped = 0
        self._failures = 0
        self._closed = False
        self._queues: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name="standin-publisher", daemon=True)
        self._thread.start()

    def publish(self, hub: str, body: bytes, partition_key: str) -> None:
        event = standin.StandInEvent(body, partition_key, time.time())
        with self._cond:
            if len(self._buffer) >= self._capacity:
                self._dropped += 1
                return
            self._buffer.append((hub, event))
            self._cond.notify()

    def _queue(self, hub: str) -> Any:
        client = self._queues.get(hub)
        if client is None:
            name = standin.queue_name(self._prefix, hub)
            client = clients.queue_service().get_queue_client(name)
            self._queues[hub] = client
        return client

    def _take(self) -> list[tuple[str, standin.StandInEvent]]:
        with self._cond:
            while not self._buffer and not self._closed:
                self._cond.wait(0.5)
            taken = list(self._buffer)
            self._buffer.clear()
            self._in_flight = len(taken)
            return taken

    def _send(self, taken: list[tuple[str, standin.StandInEvent]]) -> None:
        by_hub: dict[str, list[standin.StandInEvent]] = {}
        for hub, event in taken:
            by_hub.setdefault(hub, []).append(event)
        for hub, events in by_hub.items():
            queue = self._queue(hub)
            for text in standin.encode(events):
                queue.send_message(text)
            with self._cond:
                self._sent += len(events)

    def _run(self) -> None:
        backoff = 0.1
        while True:
            time.sleep(self._linger)  # let a few requests' events gather into one message
            taken = self._take()
            if not taken:
                if self._closed:
                    return
                continue
            try:
                self._send(taken)
                backoff = 0.1
            except Exception:  # keep the events and retry: at-least-once
                log.exception("stand-in publish failed; retrying in %.1fs", backoff)
                with self._cond:
                    self._failures += 1
                    self._buffer.extendleft(reversed(taken))
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._buffer or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {
                "sent": self._sent,
                "pending": len(self._buffer) + self._in_flight,
                "dropped": self._dropped,
                "sendFailures": self._failures,
            }


class EventHubsPublisher:
    """Azure: one buffered EventHubProducerClient per hub."""

    def __init__(self, connection: clients.Connection, capacity: int = 20_000) -> None:
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
                    credential=clients.credential_for(self._connection.name),
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


class MemoryPublisher:
    """Keeps events in memory, by hub (tests drive delivery themselves; benchmarks with
    `keep=False` measure rank without any sending)."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.events: dict[str, list[bytes]] = {}
        self._count = 0

    def publish(self, hub: str, body: bytes, partition_key: str) -> None:
        self._count += 1
        if self.keep:
            self.events.setdefault(hub, []).append(body)

    def flush(self, timeout: float = 30.0) -> bool:
        return True

    def close(self) -> None:
        pass

    def stats(self) -> dict[str, int]:
        return {"sent": self._count, "pending": 0, "dropped": 0, "sendFailures": 0}


def make_publisher() -> EventPublisher:
    settings = get_settings()
    connection = clients.eventhub_connection(settings.eventhub_connection_name)
    if connection is None:
        return QueueStandInPublisher(
            settings.hub_standin_queue_prefix, settings.publish_buffer_size
        )
    return EventHubsPublisher(connection, settings.publish_buffer_size)


def get_publisher() -> EventPublisher:
    def make() -> EventPublisher:
        publisher = make_publisher()
        atexit.register(publisher.close)  # drain what is buffered when the worker stops
        return publisher

    return clients.cached("publisher", make)  # type: ignore[no-any-return]
