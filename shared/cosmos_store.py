"""The one door to Cosmos DB. Behaves the same on real Cosmos and on the local emulator.

The emulator (@vercel/cosmosdb-server) has known gaps, handled here and nowhere else:
- a point read of a missing item fails with "Cannot read properties of undefined" instead of 404;
- GROUP BY, DISTINCT, OFFSET/LIMIT and transactional batches are unsupported (not used);
- a partition-scoped query must name the partition key path in its WHERE clause;
- TTL is accepted but never enforced (so retention is only real on Azure Cosmos DB).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy, CosmosClient, DatabaseProxy

# Container name -> partition key path. One place, mirrored by infra/bicep/modules/cosmos.bicep.
CONTAINERS: dict[str, str] = {
    "config": "/id",
    "catalog": "/kind",  # products and offers (shared/catalog/store.py says why)
    "aggregates": "/pk",  # activity counters, popularity, co-occurrence (activity/aggregate.py)
    "evaluations": "/id",  # offline evaluation jobs (shared/evaluation/jobs.py)
    "profiles": "/userId",  # one document per shopper: a point read on /api/offers
}

Item = dict[str, Any]


class Conflict(Exception):
    """The item already exists (create)."""


class PreconditionFailed(Exception):
    """The item changed since it was read (ETag mismatch) or is gone."""


class NotFound(Exception):
    """The item does not exist (patch)."""


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status_code", None)


class CosmosStore:
    def __init__(self, database: DatabaseProxy) -> None:
        self._database = database
        self._containers: dict[str, ContainerProxy] = {}
        self._lock = threading.Lock()

    def container(self, name: str) -> ContainerProxy:
        proxy = self._containers.get(name)
        if proxy is None:
            with self._lock:
                proxy = self._database.get_container_client(name)
                self._containers[name] = proxy
        return proxy

    def read(self, container: str, item_id: str, partition_key: str | None = None) -> Item | None:
        from azure.cosmos import exceptions

        try:
            item: Item = self.container(container).read_item(item_id, partition_key or item_id)
            return item
        except exceptions.CosmosResourceNotFoundError:
            return None
        except exceptions.CosmosHttpResponseError as exc:
            if "Cannot read properties of undefined" in str(exc):  # emulator's missing-item 404
                return None
            raise

    def create(self, container: str, item: Item) -> Item:
        from azure.cosmos import exceptions

        try:
            return self.container(container).create_item(item)
        except exceptions.CosmosResourceExistsError as exc:
            raise Conflict(item.get("id")) from exc

    def replace(self, container: str, item: Item, etag: str) -> Item:
        """Write `item` only if it is still at `etag` (optimistic concurrency)."""
        from azure.core import MatchConditions
        from azure.cosmos import exceptions

        try:
            return self.container(container).replace_item(
                item["id"], item, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except (
            exceptions.CosmosAccessConditionFailedError,
            exceptions.CosmosResourceNotFoundError,
        ) as exc:
            raise PreconditionFailed(item.get("id")) from exc

    def patch(
        self,
        container: str,
        item_id: str,
        operations: list[dict[str, Any]],
        etag: str | None = None,
    ) -> Item:
        """Partial update (server-side, atomic): a small payload instead of the whole document.
        With `etag`, only if the item is still at that version."""
        from azure.core import MatchConditions
        from azure.cosmos import exceptions

        options: dict[str, Any] = {}
        if etag is not None:
            options = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            return self.container(container).patch_item(item_id, item_id, operations, **options)
        except exceptions.CosmosResourceNotFoundError as exc:
            raise NotFound(item_id) from exc
        except exceptions.CosmosAccessConditionFailedError as exc:
            raise PreconditionFailed(item_id) from exc

    def upsert(self, container: str, item: Item) -> Item:
        return self.container(container).upsert_item(item)

    def delete(self, container: str, item_id: str, partition_key: str | None = None) -> bool:
        from azure.cosmos import exceptions

        try:
            self.container(container).delete_item(item_id, partition_key or item_id)
            return True
        except exceptions.CosmosResourceNotFoundError:
            return False

    def query(
        self,
        container: str,
        sql: str,
        parameters: Iterable[tuple[str, Any]] = (),
        max_items: int | None = None,
    ) -> list[Item]:
        """A cross-partition query; stops after `max_items` when given."""
        params = [{"name": n, "value": v} for n, v in parameters]
        pages = self.container(container).query_items(
            sql, parameters=params, enable_cross_partition_query=True
        )
        out: list[Item] = []
        for item in pages:
            out.append(item)
            if max_items is not None and len(out) >= max_items:
                break
        return out

    def ping(self) -> None:
        """Raise if the database cannot be reached (health check)."""
        self._database.read()


def ensure_schema(client: CosmosClient, database_name: str) -> None:
    """Create the database and containers if missing (idempotent; run by `make` set-up)."""
    from azure.cosmos import PartitionKey

    database = client.create_database_if_not_exists(database_name)
    for container, pk in CONTAINERS.items():
        # TTL on without a default: only items with a `ttl` field expire (see learner).
        database.create_container_if_not_exists(container, PartitionKey(path=pk), default_ttl=-1)
