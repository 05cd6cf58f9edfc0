"""host.json -> the typed knobs the runners honour (defaults are the host's own)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def parse_timespan(text: str | float | int) -> float:
    """.NET TimeSpan text ("hh:mm:ss[.fff]" or "d.hh:mm:ss") -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    days = 0.0
    head, _, rest = text.partition(":")
    if "." in head:  # "d.hh:mm:ss"
        d, head = head.split(".", 1)
        days = float(d)
    parts = [head, *rest.split(":")] if rest else [head]
    if len(parts) != 3:
        raise ValueError(f"not a TimeSpan: {text!r}")
    hours, minutes, seconds = (float(p) for p in parts)
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class QueueOptions:
    batch_size: int = 16
    new_batch_threshold: int = 8
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    max_polling_interval: float = 60.0
    message_encoding: str = "base64"


@dataclass(frozen=True)
class EventHubOptions:
    max_event_batch_size: int = 100
    min_event_batch_size: int = 1
    max_wait_time: float = 60.0


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    function_timeout: float = 600.0
    queues: QueueOptions = field(default_factory=QueueOptions)
    event_hubs: EventHubOptions = field(default_factory=EventHubOptions)


def _queue_options(raw: dict[str, Any]) -> QueueOptions:
    d = QueueOptions()
    batch = int(raw.get("batchSize", d.batch_size))
    return QueueOptions(
        batch_size=batch,
        new_batch_threshold=int(raw.get("newBatchThreshold", batch // 2)),
        max_dequeue_count=int(raw.get("maxDequeueCount", d.max_dequeue_count)),
        visibility_timeout=parse_timespan(raw.get("visibilityTimeout", d.visibility_timeout)),
        max_polling_interval=parse_timespan(raw.get("maxPollingInterval", d.max_polling_interval)),
        message_encoding=str(raw.get("messageEncoding", d.message_encoding)).lower(),
    )


def _event_hub_options(raw: dict[str, Any]) -> EventHubOptions:
    d = EventHubOptions()
    # "maxBatchSize" is the name older bundles used.
    size = raw.get("maxEventBatchSize", raw.get("maxBatchSize", d.max_event_batch_size))
    return EventHubOptions(
        max_event_batch_size=int(size),
        min_event_batch_size=int(raw.get("minEventBatchSize", d.min_event_batch_size)),
        max_wait_time=parse_timespan(raw.get("maxWaitTime", d.max_wait_time)),
    )


def load_host_config(path: str | os.PathLike[str] = "host.json") -> HostConfig:
    file = Path(path)
    if not file.exists():
        log.warning("%s not found: using the host's defaults", file)
        return HostConfig()
    raw = json.loads(file.read_text(encoding="utf-8-sig"))
    extensions = raw.get("extensions", {})
    return HostConfig(
        route_prefix=str(extensions.get("http", {}).get("routePrefix", "api")).strip("/"),
        function_timeout=parse_timespan(raw.get("functionTimeout", "00:10:00")),
        queues=_queue_options(extensions.get("queues", {})),
        event_hubs=_event_hub_options(extensions.get("eventHubs", {})),
    )
