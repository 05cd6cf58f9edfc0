"""Personalizer's offline evaluations (shared/evaluation/jobs.py): v1.0 `POST /evaluations`
(201 + Location) and 2022-09 `PUT /evaluations/{id}`, get, list (v1.0: an array; 2022-09: a page
`{value, nextLink}`), delete. The job runs on the evaluations queue, not in the request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from functions.http_io import JsonBody, error_responses, json_response
from shared import wiring
from shared.errors import bad_request, not_found
from shared.evaluation.jobs import EvaluationRequest, ImportanceRequest
from shared.evaluation.shapes import for_2022
from shared.policy import PolicyError

router = APIRouter(tags=["personalizer"])


class PolicyReference(BaseModel):
    """`POST /configurations/applyFromEvaluation`: a policy (by name, or its arguments) of a
    completed evaluation."""

    model_config = ConfigDict(extra="ignore")
    evaluationId: str = Field(min_length=1, max_length=256)
    policyName: str = Field(min_length=1, max_length=1024)


BODY = JsonBody(EvaluationRequest, error_code="InvalidEvaluationContract")
IMPORTANCE = JsonBody(ImportanceRequest, error_code="InvalidFeatureImportanceContract")
APPLY = JsonBody(PolicyReference, error_code="InvalidPolicyReference")
EvaluationId = Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._-]+$")
ImportanceId = Path(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._-]+$")


def _is_2022(request: Request) -> bool:
    """The 2022-09 API (base path /personalizer, ?api-version=...): its own status words and
    result shape (shared/evaluation/shapes.py), lists in pages."""
    return "/personalizer/v1." not in request.url.path


def _shaped(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    return for_2022(item) if _is_2022(request) else item


def _listed(request: Request, items: list[dict[str, Any]]) -> Response:
    if _is_2022(request):
        return json_response({"value": [for_2022(i) for i in items], "nextLink": None})
    return json_response(items)


@router.post("/evaluations", status_code=201, summary="Create an offline evaluation (v1.0)",
             openapi_extra=BODY.openapi, responses=error_responses(400))  # fmt: skip
async def create(request: Request) -> Response:
    evaluation = wiring.current().evaluations.create(await BODY.parse(request))
    location = f"{request.url.path}/{evaluation['id']}"
    return json_response(evaluation, 201, {"Location": location})


@router.put("/evaluations/{evaluationId}", status_code=200,
            summary="Create an offline evaluation with this id (2022-09)",
            openapi_extra=BODY.openapi, responses=error_responses(400))  # fmt: skip
async def put(request: Request, evaluationId: str = EvaluationId) -> Response:
    evaluation = wiring.current().evaluations.create(await BODY.parse(request), evaluationId)
    return json_response(_shaped(request, evaluation), 200)  # the 2022-09 client wants 200


@router.get("/evaluations", summary="All evaluations, newest first")
def list_all(request: Request) -> Response:
    return _listed(request, wiring.current().evaluations.list())


@router.get("/evaluations/{evaluationId}", summary="One evaluation, with its results when done",
            responses=error_responses(404))  # fmt: skip
def get(request: Request, evaluationId: str = EvaluationId) -> Response:
    evaluation = wiring.current().evaluations.get(evaluationId)
    if evaluation is None or evaluation.get("kind") == "featureImportance":
        raise not_found(f"no evaluation {evaluationId!r}", code="EvaluationNotFound")
    return json_response(_shaped(request, evaluation))


@router.delete("/evaluations/{evaluationId}", status_code=204, summary="Delete an evaluation")
def delete(evaluationId: str = EvaluationId) -> Response:
    wiring.current().evaluations.delete(evaluationId)  # idempotent, as the service's
    return Response(status_code=204)


@router.put("/featureImportances/{featureImportanceId}", status_code=200,
            summary="Compute feature importances over a time range (leave-one-namespace-out)",
            openapi_extra=IMPORTANCE.openapi, responses=error_responses(400))  # fmt: skip
async def put_importance(request: Request, featureImportanceId: str = ImportanceId) -> Response:
    body = await IMPORTANCE.parse(request)
    item = wiring.current().evaluations.create_importance(body, featureImportanceId)
    return json_response(_shaped(request, item), 200)


@router.get("/featureImportances", summary="All feature importances, newest first")
def list_importances(request: Request) -> Response:
    return _listed(request, wiring.current().evaluations.list("featureImportance"))


@router.get("/featureImportances/{featureImportanceId}", summary="One feature importance",
            responses=error_responses(404))  # fmt: skip
def get_importance(request: Request, featureImportanceId: str = ImportanceId) -> Response:
    item = wiring.current().evaluations.get(featureImportanceId)
    if item is None or item.get("kind") != "featureImportance":
        raise not_found(f"no feature importance {featureImportanceId!r}",
                        code="FeatureImportanceNotFound")  # fmt: skip
    return json_response(_shaped(request, item))


@router.delete("/featureImportances/{featureImportanceId}", status_code=204,
               summary="Delete a feature importance")  # fmt: skip
def delete_importance(featureImportanceId: str = ImportanceId) -> Response:
    wiring.current().evaluations.delete(featureImportanceId)
    return Response(status_code=204)


@router.post("/configurations/applyFromEvaluation", status_code=204,
             summary="Make a policy of a completed evaluation the learning policy",
             openapi_extra=APPLY.openapi, responses=error_responses(400, 404))  # fmt: skip
async def apply_from_evaluation(request: Request) -> Response:
    body = await APPLY.parse(request)
    app = wiring.current()
    contract = app.evaluations.policy_from(body.evaluationId, body.policyName)
    try:
        app.apply_policy(contract)
    except PolicyError as exc:
        raise bad_request(str(exc), target="policyName") from exc
    return Response(status_code=204)
