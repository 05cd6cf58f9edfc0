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
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.archive import JoinedArchive
from shared.contracts import PolicyContract, ServiceConfiguration, parse_duration
from shared.cosmos_store import CosmosStore
from shared.errors import ApiError
from shared.evaluation import optimizer
from shared.evaluation.importance import feature_importance
from shared.evaluation.policies import Baseline, Line, Online, TargetPolicy, Uniform, VWPolicy
from shared.evaluation.runner import evaluate
from shared.policy import PolicyError, validate

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient

log = logging.getLogger(__name__)
CONTAINER = "evaluations"
MAX_DAYS = 90
AUTO_STATE_ID = "auto-optimization"  # when auto-optimization last queued an evaluation
DEFAULT_AUTO_FREQUENCY = "P7D"


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


def _utc(value: str | datetime) -> datetime:
    """An ISO-8601 time (`Z` or an offset; Python 3.11 reads both) or a datetime, made aware:
    one without a zone is taken as UTC."""
    t = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class EvaluationJobs:
    def __init__(
        self,
        cosmos: CosmosStore,
        archive: JoinedArchive,
        queue: Callable[[], QueueClient],
        online_policy: Callable[[], str],
        apply_policy: Callable[[PolicyContract], object],
    ) -> None:
        self._cosmos = cosmos
        self._archive = archive
        self._queue = queue
        self._online_policy = online_policy
        self._apply_policy = apply_policy

    # --- the API's side -----------------------------------------------------------------------
    def create(
        self,
        request: EvaluationRequest,
        evaluation_id: str | None = None,
        evaluation_type: str = "Manual",
    ) -> dict[str, Any]:
        start, end = _utc(request.startTime), _utc(request.endTime)
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
            "evaluationType": evaluation_type,
            "enableOfflineExperimentation": request.enableOfflineExperimentation,
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
        start, end = _utc(request.startTime), _utc(request.endTime)
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
        start, end = _utc(doc["startTime"]), _utc(doc["endTime"])
        online = self._online_policy()
        sources = {"online": "Online", "baseline": "Baseline", "random": "Random"}
        candidates = [{**p, "source": "Custom"} for p in doc["policies"]]
        if doc.get("enableOfflineExperimentation"):
            candidates += [{**p, "source": "OfflineExperimentation"} for p in optimizer.grid()]
        seen = {online}
        policies: list[TargetPolicy] = [Online(), Baseline(), Uniform()]
        policies.append(VWPolicy("online policy replayed", online))
        sources["online policy replayed"] = "Online"
        for candidate in candidates:
            if candidate["arguments"] not in seen:
                seen.add(candidate["arguments"])
                policies.append(VWPolicy(candidate["name"], candidate["arguments"]))
                sources[candidate["name"]] = candidate["source"]
        try:
            out = evaluate(self._lines(start, end), policies)
        finally:
            for policy in policies:
                policy.close()
        if not out["decisions"]:
            raise ValueError("no learned decisions in the logs between startTime and endTime")
        for result in out["policyResults"]:
            result["policySource"] = sources[result["name"]]
        replayed = out["policyResults"][3:]  # the online policy replayed and the candidates
        best = optimizer.best(replayed)
        computed = {
            **out,
            "optimalPolicy": best["arguments"],
            "optimalPolicyName": best["name"],
            "optimalPolicyEstimate": best["totalSummary"]["estimates"]["dr"],
        }
        if doc.get("evaluationType") == "Auto":
            computed["autoOptimization"] = self._auto_decision(out["policyResults"], online)
        return computed

    def _auto_decision(self, results: Sequence[dict[str, Any]], online: str) -> dict[str, Any]:
        """Apply the best candidate when it is surely better than what runs now (the online
        policy's logged reward); an applied policy is the new online one at the next rank."""
        logged = results[0]  # Online(): the reward the online policy actually earned
        candidates = [r for r in results[3:] if r["arguments"] != online]
        decision = optimizer.decide(logged, candidates)
        if decision["decision"] == "applied":
            self._apply_policy(PolicyContract.model_validate(decision["candidate"]))
        log.info("auto-optimization: %s", decision)
        return decision

    def policy_from(self, evaluation_id: str, policy_name: str) -> PolicyContract:
        """`applyFromEvaluation`: the named policy of a completed evaluation, to be applied."""
        doc = self._cosmos.read(CONTAINER, evaluation_id)
        if doc is None or doc.get("kind") != "evaluation":
            raise ApiError(404, "EvaluationNotFound", f"no evaluation {evaluation_id!r}")
        if doc["status"] != "completed":
            message = f"evaluation {evaluation_id!r} is {doc['status']}, not completed"
            raise ApiError(400, "EvaluationNotCompleted", message)
        for result in doc.get("policyResults", []):
            if policy_name in (result["name"], result["arguments"]):
                if not result["arguments"]:
                    message = f"{result['name']!r} is not a VW policy; nothing to apply"
                    raise ApiError(400, "InvalidPolicyConfiguration", message)
                return PolicyContract(name=result["name"], arguments=result["arguments"])
        names = [r["name"] for r in doc.get("policyResults", [])]
        message = f"evaluation {evaluation_id!r} has no policy {policy_name!r}; it has {names}"
        raise ApiError(400, "PolicyNotFound", message)

    def auto_optimize(self, service: ServiceConfiguration, now: datetime) -> str:
        """The auto-optimization timer: when enabled and due (every autoOptimizationFrequency
        from autoOptimizationStartDate), queue an evaluation of the grid over the last period;
        its job applies the winner, if any (see `_auto_decision`). Returns what it did."""
        if not service.isAutoOptimizationEnabled:
            return "disabled"
        every = parse_duration(service.autoOptimizationFrequency or DEFAULT_AUTO_FREQUENCY)
        begins = service.autoOptimizationStartDate
        if begins and now < _utc(begins):
            return "not started"
        state = self._cosmos.read(CONTAINER, AUTO_STATE_ID) or {"id": AUTO_STATE_ID}
        last = state.get("lastQueued")
        if last and now - _utc(last) < every:
            return "not due"
        span = min(every, timedelta(days=MAX_DAYS))
        request = EvaluationRequest(
            name=f"auto-optimization {_iso(now)}",
            startTime=now - span,
            endTime=now,
            enableOfflineExperimentation=True,
        )
        # the state first: a crash after it skips one period; after the job, never two jobs
        self._cosmos.upsert(
            CONTAINER,
            {"id": AUTO_STATE_ID, "kind": "autoOptimizationState", "lastQueued": now.isoformat()},
        )
        self.create(request, evaluation_type="Auto")
        return "queued"

    def importance(self, doc: dict[str, Any]) -> dict[str, Any]:
        start, end = _utc(doc["startTime"]), _utc(doc["endTime"])
        lines = list(self._lines(start, end))
        if not lines:
            raise ValueError("no learned decisions in the logs between startTime and endTime")
        scores = feature_importance(lines, self._online_policy())
        return {"featureScores": [{"featureName": k, "score": v} for k, v in scores.items()]}

    def _lines(self, start: datetime, end: datetime) -> Iterator[Line]:
        for line in self._archive.lines(self._archive.paths_between(start, end)):
            stamp = _utc(str(line["Timestamp"]))
            if start <= stamp < end:
                yield line


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}
