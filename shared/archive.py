"""Joined-event archive in Blob: `archive/joined/yyyy/mm/dd/HH/v<version>-<run>.json`, one DSJSON
line per event, readable by plain `vw --dsjson --cb_explore_adf`."""

from __future__ import annotations

from datetime import UTC, datetime
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

    def delete_all(self, prefix: str = "joined/") -> int:
        """Delete the joined logs (Personalizer's DELETE /logs); returns how many blobs."""
        names = self.list(prefix)
        for name in names:
            self._container.delete_blob(name)
        return len(names)
