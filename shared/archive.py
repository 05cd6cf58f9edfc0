"""Joined-event archive in Blob: `archive/joined/yyyy/mm/dd/HH/v<version>-<run>.json`, one DSJSON
line per event, readable by plain `vw --dsjson --cb_explore_adf`."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient


def joined_path(unix: float, version: int, run_id: str) -> str:
    hour = datetime.fromtimestamp(unix, UTC).strftime("%Y/%m/%d/%H")
    return f"joined/{hour}/v{version:08d}-{run_id}.json"


class JoinedArchive:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def write(self, path: str, lines: list[dict[str, Any]]) -> None:
        body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
        self._container.get_blob_client(path).upload_blob(body, overwrite=True)

    def exists(self, path: str) -> bool:
        return bool(self._container.get_blob_client(path).exists())

    def read(self, path: str) -> bytes:
        return bytes(self._container.get_blob_client(path).download_blob().readall())

    def list(self, prefix: str = "joined/") -> list[str]:
        return sorted(b.name for b in self._container.list_blobs(name_starts_with=prefix))

    def paths_between(self, start: datetime, end: datetime) -> builtins.list[str]:
        """The archive files of the learning runs in the hours from `start` to `end`, oldest
        first. One listing per hour, or per day or month over long ranges: an hourly listing of
        GET /stats/lift?hours=2160 made 2,161 calls and took over ten seconds."""
        first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        hours = int((end - first).total_seconds() // 3600) + 1
        if hours <= 0:
            return []
        last = first + timedelta(hours=hours - 1)
        return [
            path
            for prefix in _prefixes(first, last)
            for path in self.list(f"joined/{prefix}/")
            if first <= self.hour_of(path) <= last
        ]

    def lines(self, paths: Iterable[str]) -> Iterator[dict[str, Any]]:
        for path in paths:
            yield from decode_lines(self.read(path))

    @staticmethod
    def hour_of(path: str) -> datetime:
        """joined/yyyy/mm/dd/HH/... -> that hour (UTC)."""
        return datetime.strptime("/".join(path.split("/")[1:5]), "%Y/%m/%d/%H").replace(tzinfo=UTC)

    def delete_all(self, prefix: str = "joined/") -> int:
        """Delete the joined logs (Personalizer's DELETE /logs); returns how many blobs."""
        names = self.list(prefix)
        for name in names:
            self._container.delete_blob(name)
        return len(names)


def _prefixes(first: datetime, last: datetime) -> builtins.list[str]:
    """The archive folders (hours, days or months, at most ~64 of them) that cover first..last."""
    if last - first <= timedelta(hours=48):
        count = int((last - first).total_seconds() // 3600) + 1
        return [(first + timedelta(hours=h)).strftime("%Y/%m/%d/%H") for h in range(count)]
    if last - first <= timedelta(days=62):
        days = (last.date() - first.date()).days + 1
        return [(first + timedelta(days=d)).strftime("%Y/%m/%d") for d in range(days)]
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    index = first.year * 12 + first.month - 1
    return [f"{(index + m) // 12:04d}/{(index + m) % 12 + 1:02d}" for m in range(months)]


def decode_lines(body: bytes) -> Iterator[dict[str, Any]]:
    """The DSJSON lines of one archive file."""
    for raw in body.splitlines():
        if raw:
            yield orjson.loads(raw)
