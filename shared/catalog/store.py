"""The catalog in Cosmos: container `catalog`, partitioned on /kind (`product` | `offer`).

Why /kind: the serving cache reads a whole kind at once (a single-partition query), the admin API
reads and writes one item by (kind, id) (a point operation), and a retailer's catalog (thousands
of items) stays far below a logical partition's 20 GB. Lists page by id (keyset: `after`), which
stays cheap and stable while items are added.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.catalog.models import MODELS, Offer, Product, parse
from shared.cosmos_store import CosmosStore

CONTAINER = "catalog"
Item = Product | Offer


def _document(kind: str, item: Item) -> dict[str, Any]:
    return {**item.model_dump(mode="json"), "kind": kind}


def _item(kind: str, doc: dict[str, Any]) -> Item:
    data = {k: v for k, v in doc.items() if not k.startswith("_") and k not in ("kind", "ttl")}
    return MODELS[kind].model_validate(data)


class CatalogStore:
    def __init__(self, cosmos: CosmosStore) -> None:
        self._cosmos = cosmos

    def get(self, kind: str, item_id: str) -> Item | None:
        doc = self._cosmos.read(CONTAINER, item_id, kind)
        return None if doc is None else _item(kind, doc)

    def put(self, kind: str, item: Item) -> bool:
        """Create or replace; True when it was created."""
        existed = self._cosmos.read(CONTAINER, item.id, kind) is not None
        self._cosmos.upsert(CONTAINER, _document(kind, item))
        return not existed

    def put_many(self, kind: str, items: Iterable[Item]) -> int:
        count = 0
        for item in items:
            self._cosmos.upsert(CONTAINER, _document(kind, item))
            count += 1
        return count

    def delete(self, kind: str, item_id: str) -> bool:
        return self._cosmos.delete(CONTAINER, item_id, kind)

    def page(self, kind: str, limit: int, after: str = "") -> tuple[list[Item], str | None]:
        """Up to `limit` items with id > `after`, in id order, and the cursor of the next page."""
        docs = self._cosmos.query(
            CONTAINER,
            f"SELECT TOP {int(limit) + 1} * FROM c WHERE c.kind = @kind AND c.id > @after"
            " ORDER BY c.id",
            [("@kind", kind), ("@after", after)],
        )
        items = [_item(kind, d) for d in docs[:limit]]
        more = len(docs) > limit and items
        return items, (items[-1].id if more else None)

    def unknown_products(self, product_ids: list[str]) -> list[str]:
        """The ids that name no product (one query for all of them)."""
        if not product_ids:
            return []
        docs = self._cosmos.query(
            CONTAINER,
            "SELECT c.id FROM c WHERE c.kind = 'product' AND ARRAY_CONTAINS(@ids, c.id)",
            [("@ids", sorted(set(product_ids)))],
        )
        known = {d["id"] for d in docs}
        return [p for p in product_ids if p not in known]

    def all(self, kind: str) -> list[Item]:
        docs = self._cosmos.query(
            CONTAINER, "SELECT * FROM c WHERE c.kind = @kind", [("@kind", kind)]
        )
        return [_item(kind, d) for d in docs]


__all__ = ["CONTAINER", "CatalogStore", "parse"]
