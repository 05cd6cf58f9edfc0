"""Create what the app needs in the local emulators (idempotent): Cosmos database and containers,
blob containers, and queues (the simulator's and one stand-in queue per hub)."""

from __future__ import annotations

import argparse

from shared import connections
from shared.cosmos_store import ensure_schema
from shared.events import standin
from shared.settings import get_settings


def queue_names() -> list[str]:
    settings = get_settings()
    prefix = settings.hub_standin_queue_prefix
    hubs = [standin.queue_name(prefix, hub) for hub in settings.hub_names().values()]
    return [*hubs, "simulate"]


def create_storage() -> None:
    from azure.core.exceptions import ResourceExistsError

    settings = get_settings()
    blobs = connections.blob_service_client(settings.storage_connection_name)
    queues = connections.queue_service_client(settings.storage_connection_name)
    for container in (
        settings.models_container,
        settings.archive_container,
        settings.events_container,
    ):
        try:
            blobs.create_container(container)
        except ResourceExistsError:
            pass
    for queue in queue_names():
        try:
            queues.create_queue(queue)
        except ResourceExistsError:
            pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devhost.bootstrap",
        description="Create the Cosmos database/containers, blob containers and queues the app uses"
        " (settings from the environment, else local.settings.json).",
    )
    parser.add_argument("--settings", default="local.settings.json", help="settings file to read")
    args = parser.parse_args(argv)
    from devhost.settings_loader import load_local_settings

    load_local_settings(args.settings)
    get_settings.cache_clear()
    settings = get_settings()
    ensure_schema(
        connections.cosmos_client(settings.cosmos_connection_name), settings.cosmos_database
    )
    create_storage()
    print(f"bootstrap: database {get_settings().cosmos_database!r}, containers and queues ready")


if __name__ == "__main__":
    main()
