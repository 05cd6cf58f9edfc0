"""A bare HTTP rank floor for `python -m bench rank`: one FastAPI route doing what rank cannot
skip (parse the JSON, build the VW lines, predict, answer) and nothing else: no validation model,
no middleware, no sampling, no decision logging. Served by the same uvicorn command as the app, it
shows what this machine does at best today, so the app's numbers can be read against it.

`BENCH_FLOOR_MODEL` names a saved VW model file (written by bench/rank.py).
"""

from __future__ import annotations

import os

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from shared import features
from shared.vw_model import VWModel


def create_app() -> FastAPI:
    with open(os.environ["BENCH_FLOOR_MODEL"], "rb") as handle:
        model = VWModel.from_bytes(handle.read(), "")
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/api/personalizer/v1.0/rank")
    async def rank(request: Request) -> Response:
        body = orjson.loads(await request.body())
        context, _ = features.context_line(body["contextFeatures"])
        actions = body["actions"]
        lines = [features.cached_action_line(a["features"]) for a in actions]
        scores = model.predict([context, *lines])
        best = max(range(len(scores)), key=scores.__getitem__)
        ranking = [{"id": a["id"], "probability": p} for a, p in zip(actions, scores, strict=True)]
        payload = {"ranking": ranking, "rewardActionId": actions[best]["id"]}
        return Response(orjson.dumps(payload), 201, media_type="application/json")

    @app.get("/api/health")
    async def health() -> Response:
        return Response(b"{}", media_type="application/json")

    return app
