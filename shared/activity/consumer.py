"""The activity hub's consumer: one delivered batch -> the raw archive (one JSON-lines blob per
batch, named by the batch) -> pre-aggregated deltas -> Cosmos, exactly once per batch.

The batch id is a hash of its event ids, so a redelivered batch has the same id: its archive blob
is overwritten with the same content and its deltas are skipped by every document that has them.
Undecodable events are parked (archive/poison/activity/...) and counted; they never block a batch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from shared.activity.aggregate import ProductInfo, aggregate
from shared.activity.events import decode
from shared.activity.store import ActivityStore, ApplyReport

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

    from shared.poison import PoisonParking

log = logging.getLogger(__name__)
PREFIX = "activity/"


def batch_id(events: Iterable[dict[str, Any]]) -> str:
    ids = sorted(str(e["id"]) for e in events)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]


def archive_path(events: list[dict[str, Any]], batch: str) -> str:
    hour = datetime.fromtimestamp(min(float(e["t"]) for e in events), UTC).strftime("%Y/%m/%d/%H")
    return f"{PREFIX}{hour}/{batch}.jsonl"


@dataclass
class ConsumeReport:
    events: int = 0
    parked: int = 0
    batch: str = ""
    archived: str = ""
    applied: ApplyReport = field(default_factory=ApplyReport)


class ActivityConsumer:
    def __init__(
        self,
        store: ActivityStore,
        archive: ContainerClient,
        parking: PoisonParking,
        product_info: Callable[[], ProductInfo],
    ) -> None:
        self._store = store
        self._archive = archive
        self._parking = parking
        self._product_info = product_info

    def consume(self, bodies: Iterable[bytes]) -> ConsumeReport:
        report = ConsumeReport()
        events: list[dict[str, Any]] = []
        for body in bodies:
            try:
                events.append(decode(body))
            except (ValueError, TypeError) as exc:
                self._parking.park("activity", body, str(exc))
                report.parked += 1
        if not events:
            return report
        report.events = len(events)
        report.batch = batch_id(events)
        report.archived = archive_path(events, report.batch)
        body = b"".join(orjson.dumps(e) + b"\n" for e in events)
        self._archive.get_blob_client(report.archived).upload_blob(body, overwrite=True)
        report.applied = self.apply(report.batch, events)
        return report

    def apply(self, batch: str, events: list[dict[str, Any]]) -> ApplyReport:
        return self._store.apply(batch, aggregate(events, self._product_info()))

    def archived_batches(self, prefix: str = PREFIX) -> list[str]:
        return sorted(b.name for b in self._archive.list_blobs(name_starts_with=prefix))

    def replay(self, path: str) -> ApplyReport:
        """Apply one archived batch again (idempotent: its id is its name)."""
        data = self._archive.get_blob_client(path).download_blob().readall()
        events = [orjson.loads(line) for line in bytes(data).splitlines() if line]
        return self.apply(path.rsplit("/", 1)[-1].removesuffix(".jsonl"), events)
