"""The local stand-in for Event Hubs: a bounded buffer drained by a thread into one Storage queue
per hub (wire format in shared/events/standin.py); devhost delivers those messages to the Event
Hub triggers as hub batches. Chosen only by EVENT_TRANSPORT=storage-queues."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from shared.events import standin

if TYPE_CHECKING:
    from azure.storage.queue import QueueServiceClient

log = logging.getLogger(__name__)


class QueueStandInPublisher:
    """Local stand-in: a bounded buffer, a sender thread, one Azurite queue per hub.

    `publish` is on the request path: it appends to a deque (atomic under the GIL) and takes no
    lock and wakes no thread. The sender wakes every `linger_seconds`, takes what gathered and
    packs it into as few messages as fit, so the SDK is called a few times a second, not per
    request, and the work of packing happens in long batches off the request path."""

    def __init__(
        self,
        queues: QueueServiceClient,
        queue_prefix: str,
        capacity: int = 20_000,
        linger_seconds: float = 0.1,
    ) -> None:
        self._service = queues
        self._prefix = queue_prefix
        self._capacity = capacity
        self._linger = linger_seconds
        self._buffer: deque[tuple[str, bytes, str, float]] = deque()
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
        if len(self._buffer) >= self._capacity:
            with self._cond:
                self._dropped += 1
            return
        self._buffer.append((hub, body, partition_key, time.time()))

    def _queue(self, hub: str) -> Any:
        client = self._queues.get(hub)
        if client is None:
            name = standin.queue_name(self._prefix, hub)
            client = self._service.get_queue_client(name)
            self._queues[hub] = client
        return client

    def _take(self) -> list[tuple[str, bytes, str, float]]:
        pop = self._buffer.popleft
        with self._cond:
            # popleft per item: publishers append concurrently, nothing is lost between calls
            taken = [pop() for _ in range(len(self._buffer))]
            self._in_flight = len(taken)
            return taken

    def _send(self, taken: list[tuple[str, bytes, str, float]]) -> None:
        by_hub: dict[str, list[standin.StandInEvent]] = {}
        for hub, body, key, enqueued in taken:
            by_hub.setdefault(hub, []).append(standin.StandInEvent(body, key, enqueued))
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
                    self._buffer.extendleft(reversed(taken))  # may exceed capacity: kept
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
