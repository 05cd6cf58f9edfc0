"""`python -m shared.replay`: rebuild the activity aggregates and profiles from the raw archive
(archive/activity/..., one JSON-lines blob per delivered batch) into the configured database.

Each blob is applied as the batch it was (its name is the batch id), so replaying into an empty
database gives the aggregates the live consumer built, and replaying twice changes nothing.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.replay",
        description="Rebuild the activity aggregates (Cosmos `aggregates`, `profiles`) from the "
        "raw activity archive in Blob. Settings from the environment, else local.settings.json; "
        "point COSMOS_DATABASE at an empty database to rebuild from scratch.",
    )
    parser.add_argument(
        "--prefix", default="activity/", help="archive prefix to replay (default: everything), "
        "e.g. activity/2026/11/23/ for one day",
    )  # fmt: skip
    parser.add_argument("--settings", default="local.settings.json", help="settings file to read")
    args = parser.parse_args(argv)
    if not args.prefix.startswith("activity/"):
        parser.error("--prefix must start with activity/")

    from tqdm import tqdm

    from devhost.settings_loader import load_local_settings
    from shared import wiring
    from shared.cosmos_store import ensure_schema

    load_local_settings(args.settings)
    wiring.reset()
    app = wiring.current()
    ensure_schema(app.cosmos_client, app.settings.cosmos_database)
    consumer = app.activity_consumer
    batches = consumer.archived_batches(args.prefix)
    writes = 0
    for path in tqdm(batches, desc="replay", unit="batch"):
        writes += consumer.replay(path).writes
    print(f"replayed {len(batches)} batches: {writes} documents written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
