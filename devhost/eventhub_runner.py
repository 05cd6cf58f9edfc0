"""Event Hub triggers fed by the local stand-in (shared/events/standin.py: one Azurite queue per
hub, many events per message).

One runner per hub: it leases up to 32 messages, unpacks them in order, numbers the events (one
partition per hub) and hands each batch of at most maxEventBatchSize to every function bound to
the hub, as separate consumer groups would get it. After a batch is delivered it checkpoints, i.e.
deletes the messages whose events are all delivered, even when a function raised (as the host
does). A crash before that leaves the messages to reappear after the lease: at-least-once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
from azure.core.exceptions import AzureError
from azure.storage.queue import QueueClient

from devhost import storage
from devhost.app_index import FunctionSpec
from devhost.host_config import EventHubOptions
from devhost.invoker import Invoker
from devhost.runner import Runner
from shared.events import standin

log = logging.getLogger(__name__)

MAX_MESSAGES = 32  # the queue service's limit per receive
MIN_POLL_SECONDS = 0.05


@dataclass
class _Leased:
    message: Any
    events: list[standin.StandInEvent]
    end: int = 0  # position after this message's last event in the received run
    done: bool = False


def standin_prefix() -> str:
    return os.environ.get("HUB_STANDIN_QUEUE_PREFIX", "").strip() or "hub-"


def _uses_real_hub(spec: FunctionSpec) -> bool:
    name = spec.trigger.get("connection") or ""
    return bool(
        name
        and (os.environ.get(name, "").strip() or os.environ.get(f"{name}__fullyQualifiedNamespace"))
    )


class EventHubRunner(Runner):
    def __init__(
        self,
        hub: str,
        specs: list[FunctionSpec],
        options: EventHubOptions,
        invoker: Invoker,
        *,
        lease_seconds: int = 30,
        max_poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(f"eventhub:{hub}")
        self.hub = hub
        self.specs = specs
        self.options = options
        self.invoker = invoker
        self.lease = max(1, int(lease_seconds))
        self.max_poll = max_poll_seconds
        self.queue_name = storage.queue_name(standin.queue_name(standin_prefix(), hub))
        self.sequence = 0  # per hub, like one partition; restarts with devhost
        self._client: QueueClient | None = None
        self._poison: QueueClient | None = None
        self._fanout = ThreadPoolExecutor(len(specs), thread_name_prefix=f"hub-{hub}")
        storage.queue_service()  # a missing AzureWebJobsStorage fails these functions now
        for spec in specs:
            if _uses_real_hub(spec):
                log.warning(
                    "function '%s': %s points at a real Event Hubs namespace, but devhost reads"
                    " the local stand-in queue '%s'",
                    spec.name,
                    spec.trigger.get("connection"),
                    self.queue_name,
                )

    @property
    def client(self) -> QueueClient:
        if self._client is None:
            self._client = storage.queue_client(self.queue_name)
        return self._client

    def run(self) -> None:
        delay = 0.0
        while not self.stopping.is_set():
            try:
                leased = self._collect()
            except AzureError as exc:
                log.warning(
                    "hub '%s': receive failed (%s); will retry", self.hub, storage.describe(exc)
                )
                self._client = None
                leased = []
            if leased:
                delay = 0.0
                self._deliver(leased)
            else:
                delay = min(self.max_poll, max(MIN_POLL_SECONDS, delay * 2))
                self.stopping.wait(delay)
        self._fanout.shutdown(wait=False)

    def _receive(self) -> list[_Leased]:
        leased: list[_Leased] = []
        for message in storage.receive_batch(self.client, MAX_MESSAGES, self.lease):
            try:
                events = standin.decode(message.content or "")
            except Exception as exc:  # any garbage: park it, keep the hub moving
                log.error("hub '%s': undecodable message %s (%s)", self.hub, message.id, exc)
                self._move_to_poison(message)
                continue
            leased.append(_Leased(message, events))
        return leased

    def _collect(self) -> list[_Leased]:
        """Receive; with minEventBatchSize > 1, keep receiving for up to maxWaitTime."""
        leased = self._receive()
        if not leased:
            return leased
        deadline = time.monotonic() + min(self.options.max_wait_time, self.lease / 2)
        while (
            sum(len(x.events) for x in leased) < self.options.min_event_batch_size
            and time.monotonic() < deadline
            and not self.stopping.wait(MIN_POLL_SECONDS)
        ):
            leased += self._receive()
        return leased

    def _deliver(self, leased: list[_Leased]) -> None:
        run: list[standin.StandInEvent] = []
        for item in leased:
            run += item.events
            item.end = len(run)
        leased_at = time.monotonic()
        size = max(1, self.options.max_event_batch_size)
        for start in range(0, len(run), size):
            if self.stopping.is_set():
                self._release(leased)
                return
            if time.monotonic() - leased_at > self.lease / 2:
                self._renew(leased)
                leased_at = time.monotonic()
            self._fan_out([self._to_event(e) for e in run[start : start + size]])
            self._checkpoint(leased, start + size)
        self._checkpoint(leased, len(run))

    def _to_event(self, event: standin.StandInEvent) -> func.EventHubEvent:
        self.sequence += 1
        return func.EventHubEvent(
            body=event.body,
            partition_key=event.partition_key,
            sequence_number=self.sequence - 1,
            enqueued_time=datetime.fromtimestamp(event.enqueued_time, tz=UTC),
        )

    def _fan_out(self, batch: list[func.EventHubEvent]) -> None:
        if len(self.specs) == 1:
            self._deliver_to(self.specs[0], batch)
            return
        for _ in self._fanout.map(lambda spec: self._deliver_to(spec, batch), self.specs):
            pass

    def _deliver_to(self, spec: FunctionSpec, batch: list[func.EventHubEvent]) -> None:
        # Errors are logged by the invoker and otherwise ignored: the batch is checkpointed.
        if spec.trigger.get("cardinality") == "many":
            calls: list[Any] = [list(batch)]
        else:
            calls = list(batch)
        for argument in calls:
            with contextlib.suppress(Exception):
                self.invoker.invoke(spec.name, spec.user_function, {spec.binding_name: argument})

    def _checkpoint(self, leased: list[_Leased], delivered: int) -> None:
        for item in leased:
            if item.done or item.end > delivered:
                continue
            try:
                self.client.delete_message(item.message.id, item.message.pop_receipt)
            except AzureError as exc:
                log.warning(
                    "hub '%s': checkpoint of %s failed: %s",
                    self.hub,
                    item.message.id,
                    storage.describe(exc),
                )
            item.done = True

    def _renew(self, leased: list[_Leased]) -> None:
        for item in leased:
            if item.done:
                continue
            try:
                receipt = self.client.update_message(
                    item.message.id, item.message.pop_receipt, visibility_timeout=self.lease
                )
                item.message.pop_receipt = receipt.pop_receipt
            except AzureError as exc:
                log.warning(
                    "hub '%s': lease renewal of %s failed: %s",
                    self.hub,
                    item.message.id,
                    storage.describe(exc),
                )

    def _release(self, leased: list[_Leased]) -> None:
        """On shutdown, hand undelivered messages back at once instead of after the lease."""
        for item in leased:
            if not item.done:
                # On failure they come back after the lease anyway.
                with contextlib.suppress(AzureError):
                    self.client.update_message(
                        item.message.id, item.message.pop_receipt, visibility_timeout=0
                    )

    def _move_to_poison(self, message: Any) -> None:
        name = f"{self.queue_name}-poison"
        if self._poison is None:
            self._poison = storage.queue_client(name)
        self._poison.send_message(message.content)
        self.client.delete_message(message.id, message.pop_receipt)
        log.warning("hub '%s': moved message %s to '%s'", self.hub, message.id, name)
