"""Create what the app needs in the local emulators (idempotent): Cosmos database and containers,
blob containers, and queues (the simulator's and one stand-in queue per hub); and drop the
per-run resources again (tests and benchmarks use their own names).

Storage clients come from shared/connections.py, the connection code path of the app and devhost.
"""

from __future__ import annotations

import argparse
import contextlib

from shared import connections
from shared.cosmos_store import ensure_schema
from shared.events import standin
from shared.settings import Settings, get_settings


def queue_names(settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    prefix = settings.hub_standin_queue_prefix
    hubs = [standin.queue_name(prefix, hub) for hub in settings.hub_names().values()]
    jobs = [settings.simulator_queue, settings.evaluations_queue]
    return [*hubs, *jobs, *(f"{q}-poison" for q in jobs)]


def blob_containers(settings: Settings) -> tuple[str, ...]:
    return (
        settings.models_container,
        settings.archive_container,
        settings.events_container,
        settings.simulations_container,
    )


def create_storage(settings: Settings | None = None) -> None:
    """The blob containers and the queues, if missing."""
    from azure.core.exceptions import ResourceExistsError

    settings = settings or get_settings()
    name = settings.storage_connection_name
    with connections.blob_service_client(name) as blobs:
        for container in blob_containers(settings):
            with contextlib.suppress(ResourceExistsError):
                blobs.create_container(container)
    with connections.queue_service_client(name) as queues:
        for queue in queue_names(settings):
            with contextlib.suppress(ResourceExistsError):
                queues.create_queue(queue)


def drop(settings: Settings | None = None) -> None:
    """Delete the Cosmos database, the two blob containers and every queue under the stand-in
    prefix named by `settings` (tests name their simulator queues under it; the shared
    `simulate` queue stays). Missing ones are skipped."""
    from azure.core.exceptions import ResourceNotFoundError

    settings = settings or get_settings()
    with (
        connections.cosmos_client(settings.cosmos_connection_name) as cosmos,
        contextlib.suppress(ResourceNotFoundError),
    ):
        cosmos.delete_database(settings.cosmos_database)
    storage = settings.storage_connection_name
    with connections.blob_service_client(storage) as blobs:
        for container in blob_containers(settings):
            with contextlib.suppress(ResourceNotFoundError):
                blobs.delete_container(container)
    with connections.queue_service_client(storage) as queues:
        prefix = settings.hub_standin_queue_prefix
        for queue in queues.list_queues(name_starts_with=prefix):
            with contextlib.suppress(ResourceNotFoundError):
                queues.delete_queue(queue.name)


def main(argv: list[str] | None = None, prog: str = "python -m devstack.bootstrap") -> None:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Create the Cosmos database/containers, blob containers and queues the app uses"
        " (settings from the environment, else local.settings.json).",
    )
    parser.add_argument("--settings", default="local.settings.json", help="settings file to read")
    args = parser.parse_args(argv)
    from devhost.settings_loader import load_local_settings

    load_local_settings(args.settings)
    get_settings.cache_clear()
    settings = get_settings()
    with connections.cosmos_client(settings.cosmos_connection_name) as cosmos:
        ensure_schema(cosmos, settings.cosmos_database)
    create_storage()
    print(f"bootstrap: database {get_settings().cosmos_database!r}, containers and queues ready")
    from shared import wiring
    from shared.catalog import demo

    wiring.reset()
    loaded = demo.load_if_empty(wiring.current().catalog)
    if loaded:
        print(f"bootstrap: demo catalog loaded ({loaded[0]} products, {loaded[1]} offers)")


if __name__ == "__main__":
    main()
