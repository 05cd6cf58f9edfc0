"""An in-memory stand-in for shared.cosmos_store.CosmosStore: the same methods, exceptions and
ETag semantics, for fast unit tests of logic that reads and writes Cosmos. Queries are not
supported (they need the real emulator); tests/integration/test_cosmos_contract.py runs the same
behaviours against this fake and the real emulator, so the two cannot drift apart."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from shared.cosmos_store import Conflict, Item, NotFound, PreconditionFailed

_etags = itertools.count(1)


class MemoryCosmosStore:
    def __init__(self) -> None:
        self.containers: dict[str, dict[str, Item]] = {}

    def _items(self, container: str) -> dict[str, Item]:
        return self.containers.setdefault(container, {})

    def _store(self, container: str, item: Item) -> Item:
        stored = copy.deepcopy(item)
        stored["_etag"] = f'"{next(_etags)}"'
        self._items(container)[stored["id"]] = stored
        return copy.deepcopy(stored)

    def read(self, container: str, item_id: str, partition_key: str | None = None) -> Item | None:
        item = self._items(container).get(item_id)
        return copy.deepcopy(item) if item is not None else None

    def create(self, container: str, item: Item) -> Item:
        if item["id"] in self._items(container):
            raise Conflict(item["id"])
        return self._store(container, item)

    def replace(self, container: str, item: Item, etag: str) -> Item:
        current = self._items(container).get(item["id"])
        if current is None or current["_etag"] != etag:
            raise PreconditionFailed(item["id"])
        return self._store(container, item)

    def patch(
        self,
        container: str,
        item_id: str,
        operations: list[dict[str, Any]],
        etag: str | None = None,
    ) -> Item:
        current = self._items(container).get(item_id)
        if current is None:
            raise NotFound(item_id)
        if etag is not None and current["_etag"] != etag:
            raise PreconditionFailed(item_id)
        item = copy.deepcopy(current)
        for op in operations:
            *parents, leaf = [p for p in op["path"].split("/") if p]
            target = item
            for part in parents:
                target = target.setdefault(part, {})
            if op["op"] in ("set", "add", "replace"):
                target[leaf] = op["value"]
            elif op["op"] == "incr":
                target[leaf] = target.get(leaf, 0) + op["value"]
            elif op["op"] == "remove":
                target.pop(leaf, None)
            else:
                raise ValueError(f"unsupported patch op {op['op']!r}")
        return self._store(container, item)

    def upsert(self, container: str, item: Item) -> Item:
        return self._store(container, item)

    def delete(self, container: str, item_id: str, partition_key: str | None = None) -> bool:
        return self._items(container).pop(item_id, None) is not None

    def query(self, *args: Any, **kwargs: Any) -> list[Item]:
        raise NotImplementedError("queries need the real emulator (integration tests)")

    def ping(self) -> None:
        pass
