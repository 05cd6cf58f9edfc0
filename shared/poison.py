"""Parking for events a consumer cannot process. Event Hub triggers checkpoint a batch even when
it fails, so an event that is not parked here would be lost without a trace."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

log = logging.getLogger(__name__)


class PoisonParking:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def park(self, source: str, body: bytes, error: str) -> str:
        """Store the raw event and the reason under archive/poison/<source>/yyyy/mm/dd/."""
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        path = f"poison/{source}/{day}/{uuid.uuid4().hex}.json"
        record = {"source": source, "error": error, "body": body.decode(errors="replace")}
        self._container.get_blob_client(path).upload_blob(orjson.dumps(record), overwrite=True)
        log.error("parked an event from %s at %s: %s", source, path, error)
        return path
