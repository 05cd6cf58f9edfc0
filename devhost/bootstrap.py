"""Create what the app needs in the local emulators (idempotent): Cosmos database and containers,
blob containers, and queues (the simulator's and one stand-in queue per hub)."""

from __future__ import annotations

import argparse

from shared import clients
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
    for container in (settings.models_container, settings.archive_container):
        try:
            clients.blob_service().create_container(container)
        except ResourceExistsError:
            pass
    for queue in queue_names():
        try:
            clients.queue_service().create_queue(queue)
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
    clients.reset()
    ensure_schema()
    create_storage()
    print(f"bootstrap: database {get_settings().cosmos_database!r}, containers and queues ready")


if __name__ == "__main__":
    main()
