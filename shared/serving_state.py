"""What a serving instance keeps in memory: the configuration and the current model.

A daemon thread polls the config store and the model blob's ETag every few seconds and swaps in
what changed; rank only reads the references, so it never waits on storage (one synchronous load
happens at the first request of a worker, like a cold start).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from shared.config_store import ConfigSnapshot, ConfigStore
from shared.model_store import ModelMeta, ModelStore
from shared.vw_model import VWModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    model: VWModel
    meta: ModelMeta
    etag: str


class ServingState:
    def __init__(
        self, models: ModelStore, configs: ConfigStore, model_seconds: float, config_seconds: float
    ) -> None:
        self._models = models
        self._configs = configs
        self._model_seconds = model_seconds
        self._config_seconds = config_seconds
        self._config: ConfigSnapshot | None = None
        self._model: LoadedModel | None = None
        self._started = False
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            self.refresh_config()
            self.refresh_model()
            threading.Thread(target=self._poll, name="serving-poll", daemon=True).start()
            self._started = True

    def config(self) -> ConfigSnapshot:
        if self._config is None:
            self.start()
        assert self._config is not None
        return self._config

    def model(self) -> LoadedModel | None:
        if not self._started:
            self.start()
        return self._model

    def refresh_config(self) -> None:
        self._config = self._configs.snapshot()

    def refresh_model(self) -> bool:
        """Load the model blob if its ETag moved; True when a new model was swapped in."""
        head = self._models.head()
        current = self._model
        if head is None:
            self._model = None
            return current is not None
        if current is not None and head[0] == current.etag:
            return False
        stored = self._models.load()
        if stored is None:
            return False
        model = VWModel.from_bytes(stored.data, stored.meta.policy)
        self._model = LoadedModel(model, stored.meta, stored.etag)  # atomic swap
        log.info("serving model v%d (%s)", stored.meta.version, stored.meta.policy)
        return True

    def _poll(self) -> None:
        last = {"model": time.monotonic(), "config": time.monotonic()}
        periods = {"model": self._model_seconds, "config": self._config_seconds}
        refresh = {"model": self.refresh_model, "config": self.refresh_config}
        while not self._stop.wait(min(periods.values())):
            try:
                for name, period in periods.items():
                    if time.monotonic() - last[name] >= period * 0.999:
                        refresh[name]()
                        last[name] = time.monotonic()
            except Exception:  # keep serving what we have; try again next tick
                log.exception("model/config refresh failed")

    def stop(self) -> None:
        self._stop.set()
