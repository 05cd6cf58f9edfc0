"""Queue triggers with the host's semantics (Azure Storage queues extension).

Poll with exponential backoff up to maxPollingInterval; receive up to batchSize and fetch more
when in-flight work drops to newBatchThreshold; keep messages invisible while they run (a lease,
renewed); delete on success; on failure make them visible again after visibilityTimeout, and once
dequeueCount reaches maxDequeueCount move them to `<queue>-poison`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.core.exceptions import AzureError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from devhost import storage
from devhost.app_index import FunctionSpec
from devhost.host_config import QueueOptions
from devhost.invoker import Invoker
from devhost.runner import Runner
from devhost.settings_loader import resolve

log = logging.getLogger(__name__)

MIN_POLL_SECONDS = 0.1


class BadEncoding(ValueError):
    """The body is not valid for messageEncoding (the host fails the invocation likewise)."""


@dataclass
class _InFlight:
    message: Any  # azure.storage.queue.QueueMessage; pop_receipt changes on each renewal
    leased_at: float


def decode_body(content: str, encoding: str) -> bytes | str:
    if encoding != "base64":
        return content
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadEncoding(
            f"message is not base64 (host.json messageEncoding=base64): {exc}"
        ) from exc


def to_function_message(message: Any, body: bytes | str) -> func.QueueMessage:
    # The worker's own converter builds this class; its __init__ is untyped.
    return QueueMessage(  # type: ignore[no-untyped-call]
        id=message.id,
        body=body,
        dequeue_count=message.dequeue_count,
        pop_receipt=message.pop_receipt,
        insertion_time=message.inserted_on,
        expiration_time=message.expires_on,
        time_next_visible=message.next_visible_on,
    )


class QueueRunner(Runner):
    def __init__(
        self,
        spec: FunctionSpec,
        options: QueueOptions,
        invoker: Invoker,
        *,
        lease_seconds: float = 60.0,
        shutdown_grace: float = 10.0,
    ) -> None:
        self.queue_name = storage.queue_name(resolve(spec.trigger["queueName"]))
        super().__init__(f"queue:{spec.name}")
        self.spec = spec
        self.options = options
        self.invoker = invoker
        # The host holds messages for 10 minutes and renews; a shorter lease (renewed at half)
        # brings messages back sooner after a local crash.
        self.lease = max(1, math.ceil(lease_seconds))
        self.shutdown_grace = shutdown_grace
        self.connection = spec.trigger.get("connection") or None
        storage.queue_service(self.connection)  # a missing connection fails this function now
        self._client: QueueClient | None = None
        self._poison: QueueClient | None = None
        self._in_flight: dict[Future[Any], _InFlight] = {}

    @property
    def client(self) -> QueueClient:
        if self._client is None:
            self._client = storage.queue_client(self.queue_name, self.connection)
        return self._client

    def run(self) -> None:
        delay = 0.0
        next_poll = 0.0
        while not self.stopping.is_set():
            self._settle_finished()
            self._renew_leases()
            now = time.monotonic()
            room = len(self._in_flight) <= self.options.new_batch_threshold
            if room and now >= next_poll:
                delay = 0.0 if self._receive() else self._backoff(delay)
                next_poll = now + delay
                continue
            timeout = min(max(next_poll - now, 0.0) if room else 1.0, 1.0)
            self._wait(timeout)
        self._drain()

    def _backoff(self, delay: float) -> float:
        """An empty queue is polled less and less often, up to maxPollingInterval."""
        return min(self.options.max_polling_interval, max(MIN_POLL_SECONDS, delay * 2))

    def _wait(self, timeout: float) -> None:
        if self._in_flight:
            wait(list(self._in_flight), timeout, return_when=FIRST_COMPLETED)
        else:
            self.stopping.wait(timeout)

    def _receive(self) -> int:
        try:
            messages = storage.receive_batch(self.client, self.options.batch_size, self.lease)
        except AzureError as exc:
            log.warning(
                "queue '%s': receive failed (%s); will retry",
                self.queue_name,
                storage.describe(exc),
            )
            self._client = None  # the queue may have been deleted: recreate on the next poll
            return 0
        for message in messages:
            self._dispatch(message)
        return len(messages)

    def _dispatch(self, message: Any) -> None:
        if message.dequeue_count > self.options.max_dequeue_count:
            # Seen too often already (earlier crashes): the host poisons without invoking.
            self._settle(message, ok=False)
            return
        future: Future[Any]
        try:
            body = decode_body(message.content or "", self.options.message_encoding)
        except BadEncoding as exc:
            log.error("function '%s': %s", self.spec.name, exc)
            future = Future()
            future.set_exception(exc)
        else:
            kwargs = {self.spec.binding_name: to_function_message(message, body)}
            future = self.invoker.submit(self.spec.name, self.spec.user_function, kwargs)
        self._in_flight[future] = _InFlight(message, time.monotonic())

    def _settle_finished(self) -> None:
        for future in [f for f in self._in_flight if f.done()]:
            self._settle(self._in_flight.pop(future).message, future.exception() is None)

    def _settle(self, message: Any, ok: bool) -> None:
        try:
            if ok:
                self.client.delete_message(message.id, message.pop_receipt)
            elif message.dequeue_count >= self.options.max_dequeue_count:
                self._move_to_poison(message)
            else:
                self.client.update_message(
                    message.id,
                    message.pop_receipt,
                    visibility_timeout=math.ceil(self.options.visibility_timeout),
                )
        except AzureError as exc:
            # Typically a lost lease: someone else holds the message now, and will settle it.
            log.warning(
                "queue '%s': could not settle message %s: %s",
                self.queue_name,
                message.id,
                storage.describe(exc),
            )

    def _move_to_poison(self, message: Any) -> None:
        name = f"{self.queue_name}-poison"
        log.warning(
            "Message %s has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            message.id,
            self.options.max_dequeue_count,
            name,
        )
        if self._poison is None:
            self._poison = storage.queue_client(name, self.connection)
        self._poison.send_message(message.content)  # as-is, so it can be replayed
        self.client.delete_message(message.id, message.pop_receipt)

    def _renew_leases(self) -> None:
        now = time.monotonic()
        for held in self._in_flight.values():
            if now - held.leased_at < self.lease / 2:
                continue
            message = held.message
            try:
                receipt = self.client.update_message(
                    message.id, message.pop_receipt, visibility_timeout=self.lease
                )
            except AzureError as exc:
                log.warning(
                    "queue '%s': lease renewal of %s failed: %s",
                    self.queue_name,
                    message.id,
                    storage.describe(exc),
                )
                continue
            message.pop_receipt = receipt.pop_receipt
            held.leased_at = now

    def _drain(self) -> None:
        """Let running invocations finish (up to the grace period) and settle them."""
        if self._in_flight:
            wait(list(self._in_flight), self.shutdown_grace)
        self._settle_finished()
        if self._in_flight:
            log.warning(
                "queue '%s': %d invocation(s) still running at shutdown; their messages return"
                " after the lease (%ds)",
                self.queue_name,
                len(self._in_flight),
                self.lease,
            )
