"""The activity stores in Cosmos: `aggregates` (partition key /pk) and `profiles` (/userId).

Exactly once per batch and document: every document remembers the ids of the last batches
applied to it (`appliedBatches`), and a batch's delta is written with a conditional replace
(ETag) that re-reads and retries when another writer got there first. A batch delivered again
(the host redelivers after a crash) finds its id and changes nothing; a crash half-way leaves the
documents already written marked, so the redelivery completes only the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from shared.activity.aggregate import BatchDeltas, merge_profile
from shared.cosmos_store import Conflict, CosmosStore, PreconditionFailed

AGGREGATES = "aggregates"
PROFILES = "profiles"
KEEP_BATCHES = 64
ATTEMPTS = 20
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="activity-write")


@dataclass
class ApplyReport:
    documents: int = 0  # documents the batch touches
    writes: int = 0  # documents written (the rest had this batch already)
    retries: int = 0  # conditional writes that lost a race and were redone


class ActivityStore:
    def __init__(self, cosmos: CosmosStore) -> None:
        self.cosmos = cosmos

    # --- writes --------------------------------------------------------------------------------
    def apply(self, batch_id: str, deltas: BatchDeltas) -> ApplyReport:
        jobs: list[Callable[[], tuple[bool, int]]] = [
            partial(self._upsert, AGGREGATES, doc_id, pk, "pk", batch_id, partial(_add, counters=c))
            for (pk, doc_id), c in deltas.counters.items()
        ]
        jobs += [
            partial(
                self._upsert,
                PROFILES,
                user,
                user,
                "userId",
                batch_id,
                partial(merge_profile, delta=d),
            )
            for user, d in deltas.profiles.items()
        ]
        report = ApplyReport(documents=len(jobs))
        for wrote, retries in _pool.map(lambda job: job(), jobs):
            report.writes += wrote
            report.retries += retries
        return report

    def _upsert(
        self,
        container: str,
        doc_id: str,
        pk: str,
        pk_field: str,
        batch_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> tuple[bool, int]:
        for attempt in range(ATTEMPTS):
            current = self.cosmos.read(container, doc_id, pk)
            if current is not None and batch_id in current.get("appliedBatches", []):
                return False, attempt
            base = current or {"id": doc_id, pk_field: pk}
            doc = {k: v for k, v in change(base).items() if not k.startswith("_")}
            doc["appliedBatches"] = [*base.get("appliedBatches", []), batch_id][-KEEP_BATCHES:]
            try:
                if current is None:
                    self.cosmos.create(container, doc)
                else:
                    self.cosmos.replace(container, doc, current["_etag"])
                return True, attempt
            except (Conflict, PreconditionFailed):
                continue
        raise RuntimeError(f"{container}/{doc_id}: gave up after {ATTEMPTS} conflicting writes")

    def delete_user(self, user_id: str) -> bool:
        """Erasure: the profile is the only per-user document (aggregates hold no user ids)."""
        return self.cosmos.delete(PROFILES, user_id, user_id)

    # --- reads ---------------------------------------------------------------------------------
    def profile(self, user_id: str) -> dict[str, Any] | None:
        return self.cosmos.read(PROFILES, user_id, user_id)

    def popular_offers(self, segment: str, limit: int) -> list[tuple[str, float]]:
        pk = f"popular|{segment or 'all'}"
        docs = self.cosmos.query(
            AGGREGATES,
            f"SELECT TOP {int(limit)} c.id, c.score FROM c WHERE c.pk = @pk ORDER BY c.score DESC",
            [("@pk", pk)],
        )
        return [(d["id"].split("|", 2)[2], float(d["score"])) for d in docs]

    def also_bought(self, product_id: str, limit: int) -> list[dict[str, Any]]:
        docs = self.cosmos.query(
            AGGREGATES,
            f"SELECT TOP {int(limit)} c.id, c.bought, c.viewed FROM c WHERE c.pk = @pk"
            " AND c.bought > 0 ORDER BY c.bought DESC",
            [("@pk", f"pair|{product_id}")],
        )
        return [{"productId": d["id"].split("|", 2)[2], "bought": int(d["bought"])} for d in docs]

    def totals(self, subject: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """All-time counters of offers or products (`subject`: offer | product)."""
        out = {}
        for item_id in ids:
            doc = self.cosmos.read(AGGREGATES, f"{subject}|{item_id}|t", f"{subject}|{item_id}")
            if doc is not None:
                out[item_id] = doc
        return out

    def series(self, subject: str, granularity: str, start: str, end: str) -> list[dict[str, Any]]:
        """Counters per hour (`h`) or day (`d`) of every offer or product, buckets in [start, end)
        given as yyyymmddHH / yyyymmdd."""
        lo, hi = f"|{granularity}|{start}", f"|{granularity}|{end}"
        docs = self.cosmos.query(
            AGGREGATES,
            "SELECT * FROM c WHERE STARTSWITH(c.pk, @subject) AND CONTAINS(c.id, @g)",
            [("@subject", f"{subject}|"), ("@g", f"|{granularity}|")],
        )
        return [d for d in docs if lo <= d["id"][len(d["pk"]) :] < hi]

    def baskets(self) -> int:
        doc = self.cosmos.read(AGGREGATES, "baskets|all", "baskets|all")
        return int(doc.get("baskets", 0)) if doc else 0

    def top_pairs(self, limit: int) -> list[dict[str, Any]]:
        docs = self.cosmos.query(
            AGGREGATES,
            "SELECT c.id, c.bought FROM c WHERE STARTSWITH(c.pk, 'pair|') AND c.bought > 0",
        )
        pairs = []
        for d in docs:
            _, a, b = d["id"].split("|", 2)
            if a < b:  # each pair is stored both ways
                pairs.append({"a": a, "b": b, "bought": int(d["bought"])})
        pairs.sort(key=lambda p: (-p["bought"], p["a"], p["b"]))
        return pairs[:limit]


def _add(doc: dict[str, Any], counters: dict[str, float]) -> dict[str, Any]:
    out = dict(doc)
    for name, amount in counters.items():
        out[name] = round(float(out.get(name, 0)) + amount, 6)
    return out
