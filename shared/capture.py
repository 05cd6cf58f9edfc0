"""The event log in Blob storage: what the hub triggers capture and the learner reads.

Each delivered hub batch is split by enqueued-time window (LEARN_WINDOW_SECONDS) and written as
one blob per window, one event (wire JSON) per line:

    {kind}/{yyyy}/{mm}/{dd}/{HH}/{MM}/{windowStart:010d}-{contentHash}.jsonl

`kind` is `decisions` or `rewards`. The name is a function of the content (a hash of the sorted
event bodies), so a redelivered batch overwrites itself; a batch redelivered with other
boundaries makes other blobs, which the join deduplicates by id. Names sort in time order, so the
learner lists a run's windows by minute prefix and finds the very first window with one listing.

An event that arrives for a window the model has already learned (at or before its watermark) is
late: it is kept, not learned, under `late/{arrival yyyy/mm/dd/HH/MM}/{arrivalMs}-{kind}-
{windowStart}-{count}-{hash}.jsonl` (partitioned by arrival, so the learner counts late events
with a minute-prefix listing and reads none of them). Undecodable events are parked (poison.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from shared.events.codec import decode
from shared.events.decision import DecisionEvent, EventFormatError

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

    from shared.model_store import ModelStore
    from shared.poison import PoisonParking

log = logging.getLogger(__name__)

KINDS = ("decisions", "rewards")
LATE = "late/"
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="eventlog")


def window_start(t: float, width: int) -> int:
    return int(math.floor(t / width) * width)


def _minute(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y/%m/%d/%H/%M")


def _minutes(start: float, end: float) -> list[str]:
    """Minute folders covering [start, end)."""
    first = int(start // 60) * 60
    return [_minute(m) for m in range(first, math.ceil(end), 60)] if end > start else []


def window_path(kind: str, start: int, digest: str) -> str:
    return f"{kind}/{_minute(start)}/{start:010d}-{digest}.jsonl"


def _window_of(name: str) -> int:
    return int(name.rsplit("/", 1)[1].split("-", 1)[0])


def _digest(lines: list[bytes]) -> str:
    return hashlib.sha256(b"\n".join(sorted(lines))).hexdigest()[:20]


class EventLog:
    """Blobs of captured hub events, by kind and window (the `events` container)."""

    def __init__(self, container: ContainerClient, window_seconds: int) -> None:
        self._container = container
        self.window = max(1, int(window_seconds))

    def write(self, kind: str, start: int, lines: list[bytes]) -> str:
        path = window_path(kind, start, _digest(lines))
        self._container.upload_blob(path, b"\n".join(lines) + b"\n", overwrite=True)
        return path

    def write_late(self, kind: str, start: int, lines: list[bytes], arrival: float) -> str:
        name = f"{int(arrival * 1000)}-{kind}-{start:010d}-{len(lines)}-{_digest(lines)}.jsonl"
        path = f"{LATE}{_minute(arrival)}/{name}"
        self._container.upload_blob(path, b"\n".join(lines) + b"\n", overwrite=True)
        return path

    def windows(self, kind: str, start: float, end: float) -> list[str]:
        """Blob names of the windows whose start is in [start, end), in time order."""

        def listed(minute: str) -> list[str]:
            prefix = f"{kind}/{minute}/"
            return [b.name for b in self._container.list_blobs(name_starts_with=prefix)]

        names = [n for batch in _pool.map(listed, _minutes(start, end)) for n in batch]
        return sorted(n for n in names if start <= _window_of(n) < end)

    def read(self, kind: str, start: float, end: float) -> list[dict[str, Any]]:
        """The events of the windows whose start is in [start, end), blob by blob in time order."""

        def load(name: str) -> list[dict[str, Any]]:
            data = self._container.download_blob(name).readall()
            return [orjson.loads(line) for line in bytes(data).splitlines() if line]

        return [e for batch in _pool.map(load, self.windows(kind, start, end)) for e in batch]

    def earliest(self, kind: str) -> int | None:
        """Start of the first window of `kind` in the log (names sort in time order)."""
        first = next(iter(self._container.list_blobs(name_starts_with=f"{kind}/")), None)
        return None if first is None else _window_of(first.name)

    def late_events(self, start: float, end: float) -> dict[str, int]:
        """Events that arrived late in [start, end) (arrival time), by kind, from names only."""
        counts = dict.fromkeys(KINDS, 0)
        for minute in _minutes(start, end):
            for blob in self._container.list_blobs(name_starts_with=f"{LATE}{minute}/"):
                arrival_ms, kind, _, count, _ = blob.name.rsplit("/", 1)[1].split("-", 4)
                if start <= int(arrival_ms) / 1000 < end and kind in counts:
                    counts[kind] += int(count)
        return counts


@dataclass
class CaptureReport:
    events: int = 0
    blobs: list[str] = field(default_factory=list)
    late: int = 0
    parked: int = 0


def _event_time(wire: dict[str, Any]) -> float:
    return float(wire["_t"] if "_t" in wire else wire["t"])


class Capture:
    """Hub batch -> event-log blobs: one write per (batch, window), never a database write."""

    def __init__(
        self,
        log_: EventLog,
        models: ModelStore,
        parking: PoisonParking,
        clock: Callable[[], float] = time.time,
        watermark_seconds: float = 1.0,
    ) -> None:
        self._log = log_
        self._models = models
        self._parking = parking
        self._clock = clock
        self._watermark_seconds = watermark_seconds
        self._watermark: tuple[float, float] = (-math.inf, 0.0)  # (read at, watermark)
        self._lock = threading.Lock()

    def watermark(self) -> float:
        """The current model's watermark, from a cached head read (one small request per
        `watermark_seconds` per instance)."""
        now = time.monotonic()
        read_at, value = self._watermark
        if now - read_at >= self._watermark_seconds:
            with self._lock:
                head = self._models.head()
                value = head[1].watermark if head else 0.0
                self._watermark = (now, value)
        return value

    def consume(self, kind: str, events: Iterable[tuple[float | None, bytes]]) -> CaptureReport:
        """`events`: (enqueued time or None, body) of one delivered batch of the `kind` hub."""
        report = CaptureReport()
        groups: dict[int, list[bytes]] = {}
        for enqueued, body in events:
            try:
                event = decode(body)
                if (kind == "decisions") != isinstance(event, DecisionEvent):
                    raise EventFormatError(f"a {type(event).__name__} on the {kind} hub")
                wire = orjson.loads(body)
                line = body if b"\n" not in body else orjson.dumps(wire)
                t = enqueued if enqueued is not None else _event_time(wire)
            except (EventFormatError, ValueError, KeyError, TypeError) as exc:
                self._parking.park(kind, body, f"undecodable: {exc}")
                report.parked += 1
                continue
            groups.setdefault(window_start(t, self._log.window), []).append(bytes(line))
            report.events += 1
        if not groups:
            return report
        watermark = self.watermark()
        arrival = self._clock()

        def write(item: tuple[int, list[bytes]]) -> tuple[str, int]:
            start, lines = item
            if start < watermark:
                return self._log.write_late(kind, start, lines, arrival), len(lines)
            return self._log.write(kind, start, lines), 0

        for path, late in _pool.map(write, groups.items()):
            report.blobs.append(path)
            report.late += late
        if report.late:
            log.warning("%d %s events arrived after their window was learned", report.late, kind)
        return report
