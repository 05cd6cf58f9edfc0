"""The demo catalog (shared/demo/catalog.json): what `make run` serves and the simulator's
retail world is built on."""

from __future__ import annotations

import json
from pathlib import Path

from shared.catalog.models import Catalog
from shared.catalog.store import CatalogStore

DEMO = Path(__file__).resolve().parent.parent / "demo" / "catalog.json"


def read(path: Path = DEMO) -> Catalog:
    return Catalog.model_validate(json.loads(path.read_text()))


def load(store: CatalogStore, path: Path = DEMO) -> tuple[int, int]:
    """Write every product and offer of the file (replacing items with the same ids)."""
    catalog = read(path)
    return store.put_many("product", catalog.products), store.put_many("offer", catalog.offers)


def load_if_empty(store: CatalogStore, path: Path = DEMO) -> tuple[int, int] | None:
    """Load the demo catalog into an empty catalog only, so a retailer's edits survive set-up."""
    items, _ = store.page("offer", 1)
    return None if items else load(store, path)
