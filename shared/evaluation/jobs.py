"""Personalizer evaluation jobs: created by the API (status `pending`), run off the request path
by a queue trigger, stored in Cosmos `evaluations` (partition key /id: one point read per status
poll; a list is a small cross-partition query). A job is idempotent: a redelivered message for a
job that is no longer pending does nothing, so at-least-once delivery runs each job once, and a
host restart loses nothing (the message comes back; the document says where the job is).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.archive import JoinedArchive
from shared.contracts import PolicyContract
from shared.cosmos_store import CosmosStore
from shared.errors import ApiError
from shared.evaluation.importance import feature_importance
from shared.evaluation.policies import Baseline, Line, Online, TargetPolicy, Uniform, VWPolicy
from shared.evaluation.runner import evaluate
from shared.policy import PolicyError, validate

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient

log = logging.getLogger(__name__)
CONTAINER = "evaluations"
MAX_DAYS = 90


class PolicyArgs(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=256)
    arguments: str = Field(min_length=1, max_length=1024)


class ImportanceRequest(BaseModel):
    """2022-09 `PUT /featureImportances/{id}` body."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=256)
    startTime: datetime
    endTime: datetime


class EvaluationRequest(BaseModel):
    """v1.0 `POST /evaluations` and 2022-09 `PUT /evaluations/{id}` bodies."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1, max_length=256)
    startTime: datetime
    endTime: datetime
    policies: list[PolicyArgs] = Field(default_factory=list, max_length=10)
    enableOfflineExperimentation: bool = False


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class EvaluationJobs:
    def __init__(
        self,
        cosmos: CosmosStore,
        archive: JoinedArchive,
        queue: Callable[[], QueueClient],
        online_policy: Callable[[], str],
    ) -> None:
        self._cosmos = cosmos
        self._archive = archive
        self._queue = queue
        self._online_policy = online_policy

    # --- the API's side -----------------------------------------------------------------------
    def create(
        self, request: EvaluationRequest, evaluation_id: str | None = None
    ) -> dict[str, Any]:
        start = request.startTime.replace(tzinfo=request.startTime.tzinfo or UTC)
        end = request.endTime.replace(tzinfo=request.endTime.tzinfo or UTC)
        if end <= start or end - start > timedelta(days=MAX_DAYS):
            message = f"endTime must be after startTime, at most {MAX_DAYS} days later"
            raise ApiError(400, "InvalidEvaluationTimeRange", message)
        policies = []
        for policy in request.policies:
            try:
                checked = validate(PolicyContract(name=policy.name, arguments=policy.arguments))
            except PolicyError as exc:
                raise ApiError(400, "InvalidPolicyConfiguration", f"{policy.name}: {exc}") from exc
            policies.append({"name": checked.name, "arguments": checked.arguments})
        doc = {
            "id": evaluation_id or uuid.uuid4().hex,
            "kind": "evaluation",
            "name": request.name,
            "startTime": _iso(start),
            "endTime": _iso(end),
            "status": "pending",
            "creationTime": _iso(datetime.now(UTC)),
            "evaluationType": "Manual",
            "jobId": uuid.uuid4().hex,
            "policies": policies,
            "policyResults": [],
            "featureImportance": [],
            "optimalPolicy": "",
        }
        self._cosmos.upsert(CONTAINER, doc)
        body = json.dumps({"evaluation": doc["id"]}).encode()
        self._queue().send_message(base64.b64encode(body).decode())
        return public(doc)

    def get(self, evaluation_id: str) -> dict[str, Any] | None:
        doc = self._cosmos.read(CONTAINER, evaluation_id)
        return None if doc is None else public(doc)

    def list(self, kind: str = "evaluation") -> list[dict[str, Any]]:
        docs = self._cosmos.query(
            CONTAINER, "SELECT * FROM c WHERE c.kind = @kind", [("@kind", kind)]
        )
        return sorted((public(d) for d in docs), key=lambda d: d["creationTime"], reverse=True)

    def delete(self, evaluation_id: str) -> bool:
        return self._cosmos.delete(CONTAINER, evaluation_id)

    # --- the queue trigger's side --------------------------------------------------------------
    def create_importance(self, request: ImportanceRequest, item_id: str) -> dict[str, Any]:
        start = request.startTime.replace(tzinfo=request.startTime.tzinfo or UTC)
        end = request.endTime.replace(tzinfo=request.endTime.tzinfo or UTC)
        if end <= start or end - start > timedelta(days=MAX_DAYS):
            message = f"endTime must be after startTime, at most {MAX_DAYS} days later"
            raise ApiError(400, "InvalidFeatureImportanceTimeRange", message)
        doc = {
            "id": item_id,
            "kind": "featureImportance",
            "name": request.name,
            "startTime": _iso(start),
            "endTime": _iso(end),
            "status": "pending",
            "creationTime": _iso(datetime.now(UTC)),
            "featureScores": [],
        }
        self._cosmos.upsert(CONTAINER, doc)
        body = json.dumps({"evaluation": item_id}).encode()
        self._queue().send_message(base64.b64encode(body).decode())
        return public(doc)

    def run(self, body: bytes) -> str:
        evaluation_id = json.loads(body)["evaluation"]
        doc = self._cosmos.read(CONTAINER, evaluation_id)
        if doc is None or doc["status"] != "pending":
            return "skipped"  # deleted, or done by an earlier delivery
        started = time.perf_counter()
        compute = self.importance if doc.get("kind") == "featureImportance" else self.compute
        try:
            doc.update(
                compute(doc), status="succeeded" if compute == self.importance else "completed"
            )
        except Exception as exc:  # the job fails; the API says why
            log.exception("evaluation %s failed", evaluation_id)
            doc.update(status="failed", message=str(exc))
        doc["seconds"] = round(time.perf_counter() - started, 2)
        self._cosmos.upsert(CONTAINER, {k: v for k, v in doc.items() if not k.startswith("_")})
        return str(doc["status"])

    def compute(self, doc: dict[str, Any]) -> dict[str, Any]:
        start = datetime.fromisoformat(doc["startTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(doc["endTime"].replace("Z", "+00:00"))
        online = self._online_policy()
        policies: list[TargetPolicy] = [Online(), Baseline(), Uniform()]
        policies += [VWPolicy(p["name"], p["arguments"]) for p in doc["policies"]]
        if not any(p["arguments"] == online for p in doc["policies"]):
            policies.append(VWPolicy("online policy replayed", online))
        try:
            out = evaluate(self._lines(start, end), policies)
        finally:
            for policy in policies:
                policy.close()
        if not out["decisions"]:
            raise ValueError("no learned decisions in the logs between startTime and endTime")
        best = max(out["policyResults"][3:] or out["policyResults"],
                   key=lambda r: r["totalSummary"]["estimates"]["dr"]["low"])  # fmt: skip
        return {**out, "optimalPolicy": best["arguments"] or best["name"]}

    def importance(self, doc: dict[str, Any]) -> dict[str, Any]:
        start = datetime.fromisoformat(doc["startTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(doc["endTime"].replace("Z", "+00:00"))
        lines = list(self._lines(start, end))
        if not lines:
            raise ValueError("no learned decisions in the logs between startTime and endTime")
        scores = feature_importance(lines, self._online_policy())
        return {"featureScores": [{"featureName": k, "score": v} for k, v in scores.items()]}

    def _lines(self, start: datetime, end: datetime) -> Iterator[Line]:
        for line in self._archive.lines(self._archive.paths_between(start, end)):
            stamp = datetime.fromisoformat(str(line["Timestamp"]).replace("Z", "+00:00"))
            if start <= stamp < end:
                yield line


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}
