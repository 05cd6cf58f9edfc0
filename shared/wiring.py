"""Every long-lived object of a worker, built once, on first use, in one place.

SDK clients, stores, the publisher, the serving state, the ranker and the learner are all
attributes of one `Wiring`. Triggers ask `wiring.current()` for what they need; tests replace
an object by assigning the attribute of a fresh `Wiring` (`w.publisher = MemoryPublisher()`)
before anything uses it, and `wiring.reset()` forgets the worker's wiring (after changing
settings). Nothing else in the app caches clients or stores.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from shared import connections
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from azure.cosmos import CosmosClient
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueServiceClient

    from shared.activity.consumer import ActivityConsumer
    from shared.activity.store import ActivityStore
    from shared.archive import JoinedArchive
    from shared.capture import Capture, EventLog
    from shared.catalog.cache import CatalogCache
    from shared.catalog.store import CatalogStore
    from shared.config_store import ConfigStore
    from shared.contracts import PolicyContract
    from shared.cosmos_store import CosmosStore
    from shared.dependency_checks import Check
    from shared.evaluation.jobs import EvaluationJobs
    from shared.events.publisher import EventPublisher
    from shared.learner import Learner
    from shared.model_admin import ModelAdmin
    from shared.model_store import ModelStore
    from shared.offers.service import OffersService
    from shared.offers.signals import ShopperSignals
    from shared.poison import PoisonParking
    from shared.policy import Policy
    from shared.ranker import Ranker
    from shared.serving_state import ServingState
    from simulator.runs import Simulations

log = logging.getLogger(__name__)
T = TypeVar("T")


class once(Generic[T]):
    """A lazily built attribute, built at most once per Wiring even under concurrent first use."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self._build = build
        self._name = build.__name__
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, wiring: None, owner: type[Any]) -> once[T]: ...

    @overload
    def __get__(self, wiring: Wiring, owner: type[Any]) -> T: ...

    def __get__(self, wiring: Wiring | None, owner: type[Any]) -> once[T] | T:
        if wiring is None:
            return self
        built = wiring.__dict__.get(self._name)
        if built is None:
            with wiring._lock:
                built = wiring.__dict__.get(self._name)
                if built is None:
                    built = self._build(wiring)
                    wiring.__dict__[self._name] = built
        return built  # type: ignore[no-any-return]

    def __set__(self, wiring: Wiring, value: T) -> None:
        wiring.__dict__[self._name] = value


class Wiring:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._lock = threading.RLock()  # builders build their dependencies

    # --- SDK clients (one per worker: clients per call exhaust sockets) -------------------------
    @once
    def blob_service(self) -> BlobServiceClient:
        return connections.blob_service_client(self.settings.storage_connection_name)

    @once
    def queue_service(self) -> QueueServiceClient:
        return connections.queue_service_client(self.settings.storage_connection_name)

    @once
    def cosmos_client(self) -> CosmosClient:
        return connections.cosmos_client(self.settings.cosmos_connection_name)

    # --- stores --------------------------------------------------------------------------------
    @once
    def cosmos(self) -> CosmosStore:
        from shared.cosmos_store import CosmosStore

        return CosmosStore(self.cosmos_client.get_database_client(self.settings.cosmos_database))

    @once
    def config_store(self) -> ConfigStore:
        from shared.config_store import ConfigStore

        return ConfigStore(self.cosmos, self.settings)

    @once
    def model_store(self) -> ModelStore:
        from shared.model_store import ModelStore

        return ModelStore(self.blob_service.get_container_client(self.settings.models_container))

    @once
    def archive(self) -> JoinedArchive:
        from shared.archive import JoinedArchive

        container = self.blob_service.get_container_client(self.settings.archive_container)
        return JoinedArchive(container)

    @once
    def event_log(self) -> EventLog:
        from shared.capture import EventLog

        container = self.blob_service.get_container_client(self.settings.events_container)
        return EventLog(container, self.settings.learn_window_seconds)

    @once
    def capture(self) -> Capture:
        from shared.capture import Capture

        return Capture(self.event_log, self.model_store, self.parking)

    @once
    def parking(self) -> PoisonParking:
        from shared.poison import PoisonParking

        container = self.blob_service.get_container_client(self.settings.archive_container)
        return PoisonParking(container)

    @once
    def catalog(self) -> CatalogStore:
        from shared.catalog.store import CatalogStore

        return CatalogStore(self.cosmos)

    @once
    def catalog_cache(self) -> CatalogCache:
        from shared.catalog.cache import CatalogCache

        return CatalogCache(self.catalog, self.settings.catalog_cache_seconds)

    @once
    def activity_store(self) -> ActivityStore:
        from shared.activity.store import ActivityStore

        return ActivityStore(self.cosmos)

    @once
    def activity_consumer(self) -> ActivityConsumer:
        from shared.activity.consumer import ActivityConsumer

        def product_info() -> Callable[[str], tuple[str, str] | None]:
            products = self.catalog_cache.snapshot().products

            def info(product_id: str) -> tuple[str, str] | None:
                p = products.get(product_id)
                return (p.category, p.brand) if p else None

            return info

        container = self.blob_service.get_container_client(self.settings.archive_container)
        return ActivityConsumer(self.activity_store, container, self.parking, product_info)

    @once
    def shopper_signals(self) -> ShopperSignals:
        from shared.activity.signals import ActivitySignals

        return ActivitySignals(self.activity_store, self.settings.signals_cache_seconds)

    # --- the engine ----------------------------------------------------------------------------
    @once
    def publisher(self) -> EventPublisher:
        import atexit

        from shared.events.publisher import make_publisher

        queues = self.queue_service if self.settings.event_transport == "storage-queues" else None
        publisher = make_publisher(self.settings, queues)
        atexit.register(publisher.close)  # drain what is buffered when the worker stops
        return publisher

    @once
    def serving(self) -> ServingState:
        from shared.serving_state import ServingState

        return ServingState(
            self.model_store,
            self.config_store,
            self.settings.model_poll_seconds,
            self.settings.config_cache_seconds,
        )

    @once
    def ranker(self) -> Ranker:
        from shared.ranker import Ranker

        return Ranker(self.serving, self.publisher, self.settings)

    @once
    def learner(self) -> Learner:
        from shared.learner import Learner

        return Learner(
            self.model_store,
            self.config_store,
            self.archive,
            self.event_log,
            self.settings.learn_grace_seconds,
        )

    # --- the simulator (simulator/runs.py) -------------------------------------------------------
    @once
    def simulations(self) -> Simulations:
        from simulator.client import AppClient
        from simulator.run_store import RunStore
        from simulator.runs import Simulations

        container = self.blob_service.get_container_client(self.settings.simulations_container)
        queue = self.queue_service.get_queue_client(self.settings.simulator_queue)
        base, key = self.settings.simulator_target()
        return Simulations(RunStore(container), queue, lambda: AppClient(base, key))

    @once
    def evaluations(self) -> EvaluationJobs:
        from shared.evaluation.jobs import EvaluationJobs

        queue = self.settings.evaluations_queue
        return EvaluationJobs(
            self.cosmos,
            self.archive,
            lambda: self.queue_service.get_queue_client(queue),
            lambda: self.config_store.snapshot().policy.arguments,
            self.apply_policy,
        )

    def apply_policy(self, contract: PolicyContract) -> Policy:
        """A new learning policy, stored and served by this instance at once (the others within
        CONFIG_CACHE_SECONDS); validated first (PolicyError). Every door that sets one (PUT
        policy, applyFromEvaluation, auto-optimization) comes here."""
        policy = self.config_store.put_policy(contract)
        self.serving.refresh_config()
        return policy

    def flush_events(self, timeout: float) -> bool:
        """Wait for the events published so far to be sent (tests, before their queues go); no
        publisher built yet means nothing to wait for."""
        publisher = self.__dict__.get("publisher")
        return publisher is None or bool(publisher.flush(timeout=timeout))

    @once
    def model_admin(self) -> ModelAdmin:
        from shared.model_admin import ModelAdmin

        return ModelAdmin(self.model_store, self.config_store, self.archive)

    @once
    def offers(self) -> OffersService:
        from shared.offers.service import OffersService

        return OffersService(self.catalog_cache, self.shopper_signals, self.ranker, self.settings)

    # --- health --------------------------------------------------------------------------------
    def dependency_checks(self) -> dict[str, Check]:
        """What /api/health asks: each store answers, and the event transport is configured."""

        def blob() -> None:
            next(iter(self.blob_service.list_containers(results_per_page=1)), None)

        def queue() -> None:
            next(iter(self.queue_service.list_queues(results_per_page=1)), None)

        def cosmos() -> None:
            self.cosmos.ping()

        def events() -> None:
            self.publisher  # noqa: B018  (building it resolves the hub connection, or raises)

        return {"blob": blob, "queue": queue, "cosmos": cosmos, "events": events}

    def close(self) -> None:
        serving = self.__dict__.get("serving")
        if serving is not None:
            serving.stop()


_current: Wiring | None = None
_current_lock = threading.Lock()


def current() -> Wiring:
    """This worker's wiring, built on first use from the settings."""
    global _current
    if _current is None:
        with _current_lock:
            if _current is None:
                _current = Wiring()
    return _current


def built() -> Wiring | None:
    """This worker's wiring if it has been built (tests: tidy up without building one)."""
    return _current


def install(wiring: Wiring) -> Wiring:
    """Make `wiring` this worker's (tests and benchmarks with replaced parts)."""
    global _current
    with _current_lock:
        if _current is not None and _current is not wiring:
            _current.close()
        _current = wiring
    return wiring


def reset() -> None:
    """Forget this worker's wiring and settings (tests; after the environment changed)."""
    global _current
    with _current_lock:
        if _current is not None:
            _current.close()
        _current = None
    get_settings.cache_clear()


def startup_problems(settings: Settings | None = None) -> list[str]:
    """Configuration that cannot work, said at start-up so it is seen before the first request
    (the Functions host would otherwise only show it as failed invocations)."""
    settings = settings or get_settings()
    problems = []
    if settings.event_transport == "eventhubs":
        try:
            connections.eventhub_connection(settings.eventhub_connection_name)
        except connections.ConnectionMissing as exc:
            problems.append(f"EVENT_TRANSPORT=eventhubs but {exc}")
    return problems
