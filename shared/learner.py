"""The learning run (timer, singleton): matured events -> VW learn -> model blob + DSJSON archive.

Exactly once per event, even when hubs redeliver or the host dies halfway:
1. Each run starts from the stored model (version V, written by run R_V).
2. It claims the matured events not yet in a saved model: no claim, or a claim for a version above
   V (a run that died before saving), or a claim for V by a run other than R_V (a run that lost
   the save race). A claim is {version: V+1, run: this run}, written with the document's ETag so
   two runs never claim the same event.
3. It learns the claimed events in time order and saves version V+1 guarded by the model ETag.
   That save is the commit: an event is learned iff its claim names a saved (version, run).
4. After the save it writes the joined events to the archive; a run that finds the current
   version's archive missing (a crash after the save) rebuilds it from the claims.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared import features
from shared.archive import JoinedArchive, joined_path
from shared.config_store import ConfigStore
from shared.contracts import ServiceConfiguration
from shared.cosmos_store import CosmosStore, NotFound, PreconditionFailed
from shared.dsjson import joined_line, vw_lines
from shared.events.decision import DecisionEvent
from shared.join import CONTAINER
from shared.model_store import ModelConflict, ModelMeta, ModelStore
from shared.vw_model import VWModel

log = logging.getLogger(__name__)

# Rewards accepted by the HTTP API just before the window closed may still be in the hub; wait a
# little past matureAt so the join has them.
GRACE_SECONDS = 0.5
MAX_EVENTS_PER_RUN = 50_000

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="learn")

Doc = dict[str, Any]


@dataclass
class LearnReport:
    status: str  # learned | not-due | nothing-to-learn | conflict
    version: int = 0
    claimed: int = 0
    learned: int = 0
    skipped_logging_only: int = 0
    archive_path: str = ""
    repaired_archive: bool = False
    seconds: float = 0.0


def final_reward(doc: Doc, config: ServiceConfiguration) -> float:
    """The reward an event is learned with: rewards received inside its window, aggregated."""
    window_end = float(doc["matureAt"])
    rewards = sorted(
        (r for r in doc.get("rewards", {}).values() if float(r["t"]) <= window_end),
        key=lambda r: float(r["t"]),
    )
    if not rewards:
        return config.defaultReward
    if config.rewardAggregation == "sum":
        return sum(float(r["v"]) for r in rewards)
    return float(rewards[0]["v"])


def training_example(
    decision: DecisionEvent, reward: float, lines: tuple[str, list[str]]
) -> list[str]:
    """VW text lines for a decision, labelled on the served action (cost = -reward)."""
    context, actions = lines
    return features.examples(
        context, actions, decision.chosen_index, -reward, decision.chosen_probability
    )


class Learner:
    def __init__(
        self,
        store: CosmosStore,
        models: ModelStore,
        configs: ConfigStore,
        archive: JoinedArchive,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._models = models
        self._configs = configs
        self._archive = archive
        self._clock = clock

    def run(self, force: bool = False) -> LearnReport:
        started = time.perf_counter()
        now = self._clock()
        snapshot = self._configs.snapshot()
        head = self._models.head()
        meta = head[1] if head else None
        report = LearnReport(status="learned", version=meta.version if meta else 0)
        if meta is not None:
            report.repaired_archive = self._repair_archive(meta, snapshot.service)
            due = meta.updated_at + snapshot.service.export_every.total_seconds()
            if not force and now < due:
                report.status = "not-due"
                return report
        version = meta.version if meta else 0
        run_id = uuid.uuid4().hex[:12]
        retention = snapshot.service.logRetentionDays
        ttl = retention * 86_400 if retention > 0 else None
        docs = self._claim(self._candidates(now, meta), version + 1, run_id, ttl)
        report.claimed = len(docs)
        if not docs:
            report.status = "nothing-to-learn"
            return report

        stored = self._models.load() if head else None
        policy = snapshot.policy
        continue_model = stored is not None and stored.meta.policy == policy.arguments
        model = (
            VWModel.from_bytes(stored.data, policy.arguments)
            if continue_model and stored is not None
            else VWModel.fresh(policy.arguments)
        )
        docs.sort(key=lambda d: (float(d["decision"]["_t"]), d["id"]))
        lines: list[dict[str, Any]] = []
        for doc in docs:
            reward = final_reward(doc, snapshot.service)
            decision = DecisionEvent.from_wire(doc["decision"])
            logging_only = not decision.learnable
            vw = vw_lines(decision)
            if logging_only:
                report.skipped_logging_only += 1
            else:
                model.learn(training_example(decision, reward, vw))
                report.learned += 1
            lines.append(joined_line(doc, reward, skip_learn=logging_only, lines=vw))

        previous_total = stored.meta.events_learned if continue_model and stored else 0
        new_meta = ModelMeta(
            version=version + 1,
            run_id=run_id,
            policy=policy.arguments,
            events_learned=previous_total + report.learned,
            updated_at=now,
            archive_path=joined_path(now, version + 1, run_id),
        )
        try:
            self._models.save(model.to_bytes(), new_meta, head[0] if head else None)
        except ModelConflict:
            self._release(docs)
            report.status = "conflict"
            return report
        finally:
            model.close()
        self._archive.write(new_meta.archive_path, lines)
        report.version = new_meta.version
        report.archive_path = new_meta.archive_path
        report.seconds = time.perf_counter() - started
        log.info(
            "learned %d events (%d logging-only) into model v%d in %.2fs",
            report.learned,
            report.skipped_logging_only,
            report.version,
            report.seconds,
        )
        return report

    def _candidates(self, now: float, meta: ModelMeta | None) -> list[Doc]:
        version = meta.version if meta else 0
        run = meta.run_id if meta else ""
        return self._store.query(
            CONTAINER,
            "SELECT * FROM c WHERE c.matureAt <= @cutoff AND (NOT IS_DEFINED(c.claim)"
            " OR c.claim.version > @v OR (c.claim.version = @v AND c.claim.run != @run))",
            [("@cutoff", now - GRACE_SECONDS), ("@v", version), ("@run", run)],
            max_items=MAX_EVENTS_PER_RUN,
        )

    def _claim(self, docs: list[Doc], version: int, run_id: str, ttl: int | None) -> list[Doc]:
        operations: list[dict[str, Any]] = [
            {"op": "set", "path": "/claim", "value": {"version": version, "run": run_id}}
        ]
        if ttl is not None:  # logRetentionDays: Cosmos expires the event once it is learned
            operations.append({"op": "set", "path": "/ttl", "value": ttl})

        def claim(doc: Doc) -> Doc | None:
            try:  # a small patch, only if the document is as the query saw it
                return self._store.patch(CONTAINER, doc["id"], operations, doc["_etag"])
            except (PreconditionFailed, NotFound):
                return None  # changed since the query (e.g. a late reward): next run takes it

        return [d for d in _pool.map(claim, docs) if d is not None]

    def _release(self, docs: list[Doc]) -> None:
        def release(doc: Doc) -> None:
            try:
                self._store.patch(
                    CONTAINER, doc["id"], [{"op": "remove", "path": "/claim"}], doc["_etag"]
                )
            except (PreconditionFailed, NotFound):
                pass

        list(_pool.map(release, docs))

    def _repair_archive(self, meta: ModelMeta, config: ServiceConfiguration) -> bool:
        if not meta.archive_path or self._archive.exists(meta.archive_path):
            return False
        docs = self._store.query(
            CONTAINER,
            "SELECT * FROM c WHERE c.claim.version = @v AND c.claim.run = @run",
            [("@v", meta.version), ("@run", meta.run_id)],
        )
        docs.sort(key=lambda d: (float(d["decision"]["_t"]), d["id"]))
        lines = [
            joined_line(
                d, final_reward(d, config), skip_learn=d["decision"].get("_mode") == "LoggingOnly"
            )
            for d in docs
        ]
        self._archive.write(meta.archive_path, lines)
        log.warning("rebuilt missing archive %s (%d events)", meta.archive_path, len(lines))
        return True
