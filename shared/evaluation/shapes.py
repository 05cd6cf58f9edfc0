"""An evaluation or feature-importance document as each Personalizer API version answered it.

Documents are stored once (shared/evaluation/jobs.py, v1.0's vocabulary: status `pending`,
`completed`, `failed`; `policyResults` with summaries). The 2022-09 service answered differently,
and its clients poll until its words appear (recordings in Azure/azure-sdk-for-python,
sdk/personalizer/azure-ai-personalizer/tests/recordings): status `Running` then `Succeeded` or
`Failed`; results under `content.value`, one per policy, with `summary.expectedReward`, a
`confidenceInterval` pair and a `timeseries`; `optimalPolicy` by name; feature scores with their
`namespace`. The v1.0 fields stay in the 2022-09 answer too (clients ignore what they do not
know), so nothing we compute is hidden from either.
"""

from __future__ import annotations

from typing import Any

from shared.evaluation.runner import WINDOW_SECONDS

_STATUS_2022 = {
    "pending": "Running",
    "completed": "Succeeded",
    "succeeded": "Succeeded",
    "failed": "Failed",
}


def _reward(estimates: dict[str, Any]) -> tuple[float, list[float]]:
    snips = estimates["snips"]  # v1.0's averageReward is SNIPS too
    return snips["value"], [snips["low"], snips["high"]]


def _policy_2022(result: dict[str, Any]) -> dict[str, Any]:
    value, interval = _reward(result["totalSummary"]["estimates"])
    series = []
    for row in result["summary"]:
        point, band = _reward(row["estimates"])
        series.append({"timeStamp": row["timeStamp"], "expectedReward": point,
                       "confidenceInterval": band})  # fmt: skip
    return {
        "name": result["name"],
        "slotId": "",
        "policySource": result.get("policySource", "Custom"),
        "summary": {"expectedReward": value, "confidenceInterval": interval},
        "timeseries": {"data": series},
    }


def evaluation_2022(doc: dict[str, Any]) -> dict[str, Any]:
    out = {**doc, "status": _STATUS_2022.get(doc["status"], doc["status"])}
    results = doc.get("policyResults") or []
    out["content"] = {
        "startTime": doc["startTime"],
        "endTime": doc["endTime"],
        "intervalInMinutes": WINDOW_SECONDS // 60,  # the jobs use the runner's windows
        "value": [_policy_2022(r) for r in results],
    }
    if doc.get("optimalPolicyName"):
        out["optimalPolicy"] = doc["optimalPolicyName"]
    return out


def importance_2022(doc: dict[str, Any]) -> dict[str, Any]:
    out = {**doc, "status": _STATUS_2022.get(doc["status"], doc["status"])}
    out["featureScores"] = [
        {"namespace": s["featureName"], **s} for s in doc.get("featureScores", [])
    ]
    return out


def for_2022(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") == "featureImportance":
        return importance_2022(doc)
    return evaluation_2022(doc)
