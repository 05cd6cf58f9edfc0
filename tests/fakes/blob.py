"""An in-memory stand-in for the subset of azure.storage.blob.ContainerClient (and BlobClient) the
app uses: upload with overwrite / ETag conditions / metadata, download, properties, listing by
prefix in name order, exists, delete. Errors are the SDK's own exception types, so the code under
test takes the same branches as against Azurite (every behaviour is also tested there)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

_etags = itertools.count(1)


@dataclass
class _Blob:
    data: bytes
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)


class FakeDownload:
    def __init__(self, blob: _Blob, name: str) -> None:
        self._blob = blob
        self.properties = SimpleNamespace(
            name=name, etag=blob.etag, metadata=dict(blob.metadata), size=len(blob.data)
        )

    def readall(self) -> bytes:
        return self._blob.data


class FakeBlobClient:
    def __init__(self, container: FakeContainer, name: str) -> None:
        self._container = container
        self.blob_name = name

    def upload_blob(self, data: bytes, **kwargs: Any) -> dict[str, Any]:
        return self._container.upload_blob(self.blob_name, data, **kwargs)

    def download_blob(self) -> FakeDownload:
        return self._container.download_blob(self.blob_name)

    def get_blob_properties(self) -> SimpleNamespace:
        return self._container.download_blob(self.blob_name).properties

    def exists(self) -> bool:
        return self.blob_name in self._container.blobs

    def delete_blob(self) -> None:
        self._container.delete_blob(self.blob_name)


class FakeContainer:
    def __init__(self) -> None:
        self.blobs: dict[str, _Blob] = {}
        self.calls: dict[str, int] = {}

    def _count(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1

    def get_blob_client(self, name: str) -> FakeBlobClient:
        return FakeBlobClient(self, name)

    def upload_blob(
        self,
        name: str,
        data: bytes,
        overwrite: bool = False,
        metadata: dict[str, str] | None = None,
        etag: str | None = None,
        match_condition: MatchConditions | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        self._count("upload")
        current = self.blobs.get(name)
        if match_condition == MatchConditions.IfNotModified:
            if current is None or current.etag != etag:
                raise ResourceModifiedError("the condition specified using HTTP headers is not met")
        elif current is not None and not overwrite:
            raise ResourceExistsError("the specified blob already exists")
        blob = _Blob(bytes(data), f'"0x{next(_etags):X}"', dict(metadata or {}))
        self.blobs[name] = blob
        return {"etag": blob.etag}

    def download_blob(self, name: str, **_: Any) -> FakeDownload:
        self._count("download")
        blob = self.blobs.get(name)
        if blob is None:
            raise ResourceNotFoundError("the specified blob does not exist")
        return FakeDownload(blob, name)

    def get_blob_properties(self, name: str) -> SimpleNamespace:
        return self.download_blob(name).properties

    def list_blobs(self, name_starts_with: str | None = None, **_: Any) -> list[SimpleNamespace]:
        self._count("list")
        prefix = name_starts_with or ""
        return [
            SimpleNamespace(name=n, etag=b.etag, metadata=dict(b.metadata), size=len(b.data))
            for n, b in sorted(self.blobs.items())
            if n.startswith(prefix)
        ]

    def exists(self) -> bool:
        return True

    def delete_blob(self, name: str, **_: Any) -> None:
        self._count("delete")
        if self.blobs.pop(name, None) is None:
            raise ResourceNotFoundError("the specified blob does not exist")
