"""The model in Blob storage: `models/current.vw` plus metadata, guarded by its ETag.

A trainer saves only if the blob is still at the ETag it started from (or still absent), so two
trainers never overwrite each other. Each saved version is also kept as `versions/v00000042.vw`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

CURRENT = "current.vw"


class ModelConflict(Exception):
    """Another trainer saved first (the ETag moved)."""


@dataclass(frozen=True)
class ModelMeta:
    version: int
    run_id: str
    policy: str  # VW arguments the model was trained with
    events_learned: int  # total since the policy was set
    updated_at: float  # unix seconds
    archive_path: str = ""
    # The learning pipeline's state (shared/learner.py): this run took the decision windows
    # [prev_watermark, watermark) and the reward windows [prev_watermark, reward_horizon), with
    # the pending deferred decisions of `prev_pending`, and left `pending_path` for the next run
    # (with the ids it learned early, before their reward window closed).
    watermark: float = 0.0
    prev_watermark: float = 0.0
    reward_horizon: float = 0.0
    early_horizon: float = (
        0.0  # decisions of [watermark, early_horizon) were read for early learning
    )
    wait_seconds: float = 0.0
    pending_path: str = ""
    prev_pending: str = ""
    pending: int = 0
    late_scanned_to: float = 0.0
    late_events: int = 0  # total since the policy was set: kept in the log, never learned
    unknown_featurization: int = 0  # total: decisions this learner could not featurize
    learned_last: int = 0  # events learned by the run that saved this version
    lag_p50: float = 0.0  # seconds from a reward to this model's save, over the rewards it learned
    lag_p99: float = 0.0
    lag_max: float = 0.0
    created_at: float = 0.0  # when this model started (import/reset/first learn): properties

    def to_metadata(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> ModelMeta:
        m = {k.lower(): v for k, v in metadata.items()}  # blob metadata keys come back lowercased
        convert: dict[str, Callable[[str], object]] = {
            "int": lambda v: int(float(v)),
            "float": float,
            "str": str,
        }
        kwargs: dict[str, object] = {"version": 0, "run_id": "", "policy": ""}
        kwargs |= {"events_learned": 0, "updated_at": 0.0}
        for f in fields(cls):
            if f.name in m:
                kwargs[f.name] = convert[str(f.type)](m[f.name])
        return cls(**kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StoredModel:
    data: bytes
    etag: str
    meta: ModelMeta


def version_blob(version: int) -> str:
    return f"versions/v{version:08d}.vw"


class ModelStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def head(self) -> tuple[str, ModelMeta] | None:
        """ETag and metadata of the current model, without its bytes (cheap; used for polling)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            props = self._container.get_blob_client(CURRENT).get_blob_properties()
        except ResourceNotFoundError:
            return None
        return props.etag, ModelMeta.from_metadata(props.metadata)

    def load(self) -> StoredModel | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            downloader = self._container.get_blob_client(CURRENT).download_blob()
        except ResourceNotFoundError:
            return None
        data = downloader.readall()
        props = downloader.properties
        return StoredModel(data, props.etag, ModelMeta.from_metadata(props.metadata))

    def save(self, data: bytes, meta: ModelMeta, expected_etag: str | None) -> str:
        """Write the model if nobody else did since `expected_etag` (None: must not exist yet)."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        blob = self._container.get_blob_client(CURRENT)
        try:
            if expected_etag is None:
                result = blob.upload_blob(data, overwrite=False, metadata=meta.to_metadata())
            else:
                result = blob.upload_blob(
                    data,
                    overwrite=True,
                    metadata=meta.to_metadata(),
                    etag=expected_etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError) as exc:
            raise ModelConflict(str(exc)) from exc
        self._container.get_blob_client(version_blob(meta.version)).upload_blob(
            data, overwrite=True, metadata=meta.to_metadata()
        )
        return str(result["etag"])

    # --- learner state (pending deferred decisions), written before the model that names it ---
    def write_state(self, path: str, data: bytes) -> None:
        self._container.get_blob_client(path).upload_blob(data, overwrite=True)

    def read_state(self, path: str) -> bytes:
        return bytes(self._container.get_blob_client(path).download_blob().readall())

    def delete_state(self, path: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._container.get_blob_client(path).delete_blob()
        except ResourceNotFoundError:
            pass
