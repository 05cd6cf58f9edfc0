"""Personalizer's model and log operations: export the model, import one (refused unless it
loads with the current policy; the current model is kept), reset it, and the logs' properties
and deletion (the joined archive; captured events still to be learned are never deleted).

An imported or reset model keeps the learner's watermark and pending state: it replaces what
was learned so far, and learning continues from there (nothing is learned twice)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from shared.archive import JoinedArchive
from shared.config_store import ConfigStore
from shared.errors import ApiError
from shared.model_store import ModelConflict, ModelMeta, ModelStore
from shared.vw_model import VWModel


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ModelAdmin:
    def __init__(self, models: ModelStore, configs: ConfigStore, archive: JoinedArchive) -> None:
        self._models = models
        self._configs = configs
        self._archive = archive

    def export(self) -> bytes:
        """The current model's bytes (a fresh model of the current policy before any learning)."""
        stored = self._models.load()
        if stored is not None:
            return stored.data
        model = VWModel.fresh(self._configs.snapshot().policy.arguments)
        try:
            return model.to_bytes()
        finally:
            model.close()

    def properties(self) -> dict[str, Any]:
        head = self._models.head()
        if head is None:
            now = _iso(time.time())
            return {"creationTime": now, "lastModifiedTime": now}
        meta = head[1]
        created = meta.created_at or meta.updated_at
        return {"creationTime": _iso(created), "lastModifiedTime": _iso(meta.updated_at)}

    def replace_model(self, data: bytes) -> ModelMeta:
        """Import `data` as the current model; a model VW cannot load with the current policy is
        refused with 400 and the current one stays."""
        policy = self._configs.snapshot().policy.arguments
        if not data:
            raise ApiError(400, "InvalidModel", "the model file is empty")
        try:
            VWModel.from_bytes(data, policy).close()
        except Exception as exc:
            raise ApiError(
                400, "InvalidModel", f"not a model for the current policy ({policy}): {exc}"
            ) from exc
        return self._save(data, policy, imported=True)

    def reset(self) -> ModelMeta:
        policy = self._configs.snapshot().policy.arguments
        model = VWModel.fresh(policy)
        try:
            return self._save(model.to_bytes(), policy, imported=False)
        finally:
            model.close()

    def _save(self, data: bytes, policy: str, imported: bool) -> ModelMeta:
        now = time.time()
        for _ in range(5):
            head = self._models.head()
            if head is None:
                meta = ModelMeta(version=1, run_id="admin", policy=policy, events_learned=0,
                                 updated_at=now, created_at=now)  # fmt: skip
                etag = None
            else:
                etag, current = head
                meta = replace(current, version=current.version + 1, run_id="admin",
                               policy=policy, updated_at=now, archive_path="", learned_last=0,
                               events_learned=current.events_learned if imported else 0,
                               created_at=now)  # fmt: skip
            try:
                self._models.save(data, meta, etag)
                return meta
            except ModelConflict:
                continue  # the learner saved in between: take its head and try again
        raise ApiError(409, "Conflict", "the model changed while it was being replaced; retry")

    # --- logs ----------------------------------------------------------------------------------
    def log_properties(self) -> dict[str, Any]:
        paths = self._archive.list()
        if not paths:
            return {"dateRange": {"from": None, "to": None}}
        start = JoinedArchive.hour_of(paths[0])
        end = JoinedArchive.hour_of(paths[-1])
        return {"dateRange": {"from": _iso(start.timestamp()), "to": _iso(end.timestamp() + 3600)}}

    def delete_logs(self) -> int:
        return self._archive.delete_all()
