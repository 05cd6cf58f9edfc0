"""Queue-driven runs' state in Blob storage: the run (spec and status) and its step accounting.

Why Blob, not Cosmos: a run is a handful of small documents read and written whole, and the
ETag on a blob gives the conditional write that exactly-once accounting needs; the app already
keeps its learning state in Blob (no Cosmos on those paths), and a run needs no query.

Layout, under the container SIMULATIONS_CONTAINER:
  {run}/run.json             the spec and its status (running | stopped)
  {run}/shard-{k}.json       the totals of the visitors v with v % SHARDS == k: per visitor the
                             last step accounted (a watermark: one visitor's steps run in order),
                             and per window of ordinals the running sums (simulator/curve.Totals)
Sharding keeps concurrent steps from fighting over one ETag; GET merges the shards.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from simulator.curve import Totals

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

log = logging.getLogger(__name__)

SHARDS = 8
MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class RunSpec:
    id: str
    scenario: str
    visitors: int
    sessions: int
    seed: int
    rate: float  # decisions per second, all visitors together
    think_seconds: float
    drift_at: int | None
    channel: str
    window: int
    steps_per_visitor: int
    created: str = ""
    status: str = "running"

    @property
    def expected_decisions(self) -> int:
        return self.visitors * self.steps_per_visitor

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> RunSpec:
        return cls(**json.loads(data))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class RunNotFound(LookupError):
    pass


class RunStore:
    def __init__(self, container: ContainerClient) -> None:
        self.container = container

    # --- the run -------------------------------------------------------------------------------
    def create(self, spec: RunSpec) -> None:
        self.container.upload_blob(f"{spec.id}/run.json", spec.to_json(), overwrite=False)

    def spec(self, run_id: str) -> RunSpec:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            data = self.container.download_blob(f"{run_id}/run.json").readall()
        except ResourceNotFoundError as exc:
            raise RunNotFound(run_id) from exc
        return RunSpec.from_json(data)

    def stop(self, run_id: str) -> RunSpec:
        spec = replace(self.spec(run_id), status="stopped")
        self.container.upload_blob(f"{run_id}/run.json", spec.to_json(), overwrite=True)
        return spec

    # --- accounting ----------------------------------------------------------------------------
    def _shard_name(self, run_id: str, visitor: int) -> str:
        return f"{run_id}/shard-{visitor % SHARDS}.json"

    def _read(self, name: str) -> tuple[dict[str, Any], str | None]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            blob = self.container.download_blob(name)
        except ResourceNotFoundError:
            return {"last": {}, "buckets": {}, "finished": 0}, None
        return json.loads(blob.readall()), blob.properties.etag

    def accounted(self, run_id: str, visitor: int, step: int) -> bool:
        """Whether this visitor's `step` has been accounted already (a redelivered message)."""
        shard, _ = self._read(self._shard_name(run_id, visitor))
        return int(shard["last"].get(str(visitor), -1)) >= step

    def record(self, spec: RunSpec, row: dict[str, Any]) -> bool:
        """Add one step's result to its shard, once: False when it was accounted before."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        name = self._shard_name(spec.id, int(row["visitor"]))
        visitor, step = str(row["visitor"]), int(row["step"])
        for attempt in range(MAX_ATTEMPTS):
            shard, etag = self._read(name)
            if int(shard["last"].get(visitor, -1)) >= step:
                return False
            shard["last"][visitor] = step
            if step == spec.steps_per_visitor - 1:
                shard["finished"] += 1
            bucket = str(int(row["ordinal"]) // spec.window)
            totals = Totals(shard["buckets"].get(bucket))
            totals.add(row)
            shard["buckets"][bucket] = totals.values
            body = json.dumps(shard).encode()
            try:
                if etag is None:
                    self.container.upload_blob(name, body, overwrite=False)
                else:
                    self.container.upload_blob(
                        name,
                        body,
                        overwrite=True,
                        etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
                return True
            except (ResourceModifiedError, ResourceExistsError):
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # another step won: retry
        raise RuntimeError(f"run {spec.id}: shard {name} stayed contended")

    def summary(self, run_id: str) -> dict[str, Any]:
        """The run's status, progress and reward per window, merged over the shards."""
        spec = self.spec(run_id)
        buckets: dict[int, Totals] = {}
        finished = 0
        for k in range(SHARDS):
            shard, _ = self._read(f"{run_id}/shard-{k}.json")
            finished += int(shard["finished"])
            for key, values in shard["buckets"].items():
                buckets.setdefault(int(key), Totals()).merge(Totals(values))
        total = Totals()
        for totals in buckets.values():
            total.merge(totals)
        decisions = int(total.values[0])
        status = spec.status
        if status == "running" and decisions >= spec.expected_decisions:
            status = "finished"
        windows = [buckets[b].window((b + 1) * spec.window).as_dict() for b in sorted(buckets)]
        complete = [w for w in windows if w["decisions"] >= spec.window]
        overall = total.window(decisions).as_dict()
        return {
            "id": spec.id,
            "scenario": spec.scenario,
            "status": status,
            "created": spec.created,
            "visitors": spec.visitors,
            "sessionsPerVisitor": spec.sessions,
            "seed": spec.seed,
            "rate": spec.rate,
            "thinkSeconds": spec.think_seconds,
            "driftAt": spec.drift_at,
            "channel": spec.channel,
            "window": spec.window,
            "decisions": decisions,
            "expectedDecisions": spec.expected_decisions,
            "visitorsFinished": finished,
            "progress": round(decisions / max(spec.expected_decisions, 1), 4),
            "reward": {
                k: overall[k] for k in ("app", "observed", "oracle", "random", "control", "regret")
            },
            # the last full window; until there is one, the fullest so far
            "lastWindow": complete[-1]
            if complete
            else max(windows, key=lambda w: w["decisions"], default=None),
            "windows": windows,
        }
