"""The Personalizer API over real HTTP, through the local host, with the real triggers running."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from shared import wiring
from tests.integration.conftest import LiveHost

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "docs" / "samples" / "rank-retail-25.json"
SAMPLE = json.loads(SAMPLE_PATH.read_text())
ANONYMOUS = {k: v for k, v in SAMPLE.items() if k != "eventId"}  # the server makes the ids
V1 = "/personalizer/v1.0"


def rank_body(**changes: Any) -> dict[str, Any]:
    body = {
        "contextFeatures": [{"user": {"tier": "gold", "device": "mobile"}}],
        "actions": [
            {"id": "a", "features": [{"offer": {"kind": "shipping"}}]},
            {"id": "b", "features": [{"offer": {"kind": "discount", "pct": 10}}]},
            {"id": "c", "features": [{"offer": {"kind": "bundle"}}]},
        ],
    }
    body.update(changes)
    return body


def captured(kind: str, event_id: str) -> list[dict[str, Any]]:
    """The events of `event_id` the hub trigger captured into the event log (shared/capture.py)."""
    app = wiring.current()
    container = app.blob_service.get_container_client(app.settings.events_container)
    found = []
    for blob in container.list_blobs(name_starts_with=f"{kind}/"):
        data = container.download_blob(blob.name).readall()
        if event_id.encode() in data:
            found += [e for e in map(orjson.loads, data.splitlines()) if e["EventId"] == event_id]
    return found


def wait_for_doc(event_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """The captured decision of `event_id`, once the decisions trigger has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        decisions = captured("decisions", event_id)
        if decisions:
            return {"decision": decisions[0]}
        time.sleep(0.2)
    raise AssertionError(f"decision {event_id} never reached the event log")


def test_rank_answers_201_in_personalizer_shape(live_host: LiveHost) -> None:
    event_id = f"shape-{uuid.uuid4().hex}"
    r = live_host.session.post(live_host.url(f"{V1}/rank"), json=rank_body(eventId=event_id))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["eventId"] == event_id
    assert body["ranking"][0]["id"] == body["rewardActionId"]
    assert sorted(x["id"] for x in body["ranking"]) == ["a", "b", "c"]
    assert sum(x["probability"] for x in body["ranking"]) == pytest.approx(1.0)
    doc = wait_for_doc(event_id)
    decision = doc["decision"]
    assert decision["EventId"] == event_id and decision["_ids"] == ["a", "b", "c"]
    assert decision["a"][0] == ["a", "b", "c"].index(body["rewardActionId"]) + 1


def test_every_base_path_routes(live_host: LiveHost) -> None:
    for path in (
        "/personalizer/v1.0/rank",
        "/personalizer/v1.1-preview.3/rank",
        "/personalizer/rank?api-version=2022-09-01-preview",
    ):
        assert live_host.session.post(live_host.url(path), json=rank_body()).status_code == 201


def test_same_event_id_replays_the_same_choice(live_host: LiveHost) -> None:
    body = dict(SAMPLE, eventId=f"replay-{uuid.uuid4().hex}")
    first = live_host.session.post(live_host.url(f"{V1}/rank"), json=body).json()
    second = live_host.session.post(live_host.url(f"{V1}/rank"), json=body).json()
    assert first == second
    chosen = {
        live_host.session.post(live_host.url(f"{V1}/rank"), json=ANONYMOUS).json()["rewardActionId"]
        for _ in range(30)
    }
    assert len(chosen) > 1  # different event ids explore


def test_excluded_actions_get_zero_and_come_last(live_host: LiveHost) -> None:
    r = live_host.session.post(live_host.url(f"{V1}/rank"), json=rank_body(excludedActions=["a"]))
    ranking = r.json()["ranking"]
    assert ranking[-1] == {"id": "a", "probability": 0.0}
    assert r.json()["rewardActionId"] != "a"


def test_reward_and_activate(live_host: LiveHost) -> None:
    event_id = f"defer-{uuid.uuid4().hex}"
    r = live_host.session.post(
        live_host.url(f"{V1}/rank"), json=rank_body(eventId=event_id, deferActivation=True)
    )
    assert r.status_code == 201
    assert wait_for_doc(event_id)["decision"]["DeferredAction"] is True
    reward = live_host.url(f"{V1}/events/{event_id}/reward")
    assert live_host.session.post(reward, json={"value": 0.5}).status_code == 204
    activate = live_host.url(f"{V1}/events/{event_id}/activate")
    assert live_host.session.post(activate).status_code == 204
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        observed = captured("rewards", event_id)
        if len(observed) == 2:
            break
        time.sleep(0.2)
    assert sorted(o["type"] for o in observed) == ["activation", "reward"]
    assert [o["v"] for o in observed if o["type"] == "reward"] == [0.5]


def _assert_error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    assert r.headers["x-ms-error-code"] == code
    return error  # type: ignore[no-any-return]


BAD_RANKS = [
    rank_body(actions=[]),
    rank_body(actions=[{"id": f"x{i}"} for i in range(51)]),
    rank_body(actions=[{"id": "dup"}, {"id": "dup"}]),
    rank_body(actions=[{"id": "x" * 257}]),
    rank_body(actions=[{"id": "a", "features": ["not an object"]}]),
    rank_body(contextFeatures=[["list"]]),
    rank_body(contextFeatures=[{"user": {"n": float("inf")}}]),
    rank_body(excludedActions=["nope"]),
]


@pytest.mark.parametrize("index", range(len(BAD_RANKS)))
def test_bad_rank_is_400_and_logs_nothing(live_host: LiveHost, index: int) -> None:
    event_id = f"bad-{index}-{uuid.uuid4().hex}"
    body = json.dumps(dict(BAD_RANKS[index], eventId=event_id), allow_nan=True)
    r = live_host.session.post(
        live_host.url(f"{V1}/rank"), data=body, headers={"Content-Type": "application/json"}
    )
    _assert_error(r, 400, "InvalidRankRequest")
    marker = f"good-{uuid.uuid4().hex}"  # decisions are captured in order: once this one is in...
    live_host.session.post(live_host.url(f"{V1}/rank"), json=rank_body(eventId=marker))
    wait_for_doc(marker)
    assert captured("decisions", event_id) == []  # ...the bad one would have been too


def test_malformed_json_and_wrong_content_type(live_host: LiveHost) -> None:
    url = live_host.url(f"{V1}/rank")
    r = live_host.session.post(
        url, data=b'{"actions": [', headers={"Content-Type": "application/json"}
    )
    assert "Malformed JSON" in _assert_error(r, 400, "InvalidRankRequest")["message"]
    r = live_host.session.post(
        url, data=json.dumps(rank_body()), headers={"Content-Type": "text/plain"}
    )
    assert "Content-Type" in _assert_error(r, 400, "InvalidRankRequest")["message"]


@pytest.mark.parametrize("value", ["1", True, None, 1.5, -2])
def test_bad_reward_is_400(live_host: LiveHost, value: Any) -> None:
    r = live_host.session.post(live_host.url(f"{V1}/events/e1/reward"), json={"value": value})
    _assert_error(r, 400, "InvalidRewardRequest")


def test_activate_any_event_is_204(live_host: LiveHost) -> None:
    """As Personalizer answers (the official SDK's recorded tests): activate is a logged event."""
    r = live_host.session.post(live_host.url(f"{V1}/events/{uuid.uuid4().hex}/activate"))
    assert r.status_code == 204, r.text


def test_unknown_route_and_oversized_body(live_host: LiveHost) -> None:
    _assert_error(live_host.session.get(live_host.url("/no/such/route")), 404, "ResourceNotFound")
    big = b'{"x": "' + b"y" * (1_048_576 + 10) + b'"}'
    r = live_host.session.post(
        live_host.url(f"{V1}/rank"), data=big, headers={"Content-Type": "application/json"}
    )
    _assert_error(r, 413, "PayloadSizeExceeded")


def test_service_configuration_roundtrip_and_validation(live_host: LiveHost) -> None:
    url = live_host.url(f"{V1}/configurations/service")
    before = live_host.session.get(url).json()
    bad = dict(before, explorationPercentage=3)
    _assert_error(live_host.session.put(url, json=bad), 400, "BadRequest")
    assert live_host.session.get(url).json() == before  # nothing stored
    good = dict(before, explorationPercentage=0.05, rewardAggregation="average", modelRetrainDays=4)
    stored = live_host.session.put(url, json=good)
    assert stored.status_code == 200 and stored.json()["lastConfigurationEditDate"]
    after = live_host.session.get(url).json()
    assert after["explorationPercentage"] == 0.05 and after["rewardAggregation"] == "average"
    assert after["modelRetrainDays"] == 4
    live_host.session.put(url, json=before)


def test_policy_roundtrip_validation_and_reset(live_host: LiveHost) -> None:
    url = live_host.url(f"{V1}/configurations/policy")
    default = live_host.session.get(url).json()
    bad = {"name": "x", "arguments": "--cb_explore_adf --no_such_option"}
    _assert_error(live_host.session.put(url, json=bad), 400, "BadRequest")
    assert live_host.session.get(url).json() == default
    custom = {"name": "eps", "arguments": "--cb_explore_adf --epsilon 0.1 -q :: --dsjson"}
    stored = live_host.session.put(url, json=custom).json()
    assert stored == {"name": "eps", "arguments": "--cb_explore_adf --epsilon 0.1 -q ::"}
    assert live_host.session.get(url).json() == stored
    assert live_host.session.delete(url).json() == default


def test_health_and_openapi(live_host: LiveHost) -> None:
    health = live_host.session.get(live_host.url("/health")).json()
    assert health["status"] == "healthy"
    assert {d: s["status"] for d, s in health["dependencies"].items()} == {
        "blob": "up",
        "queue": "up",
        "cosmos": "up",
        "events": "up",
    }
    assert health["transport"] == "storage-queues"
    assert health["learning"]["modelVersion"] >= 0  # from the served model's metadata, in memory
    spec = live_host.session.get(live_host.url("/openapi.json")).json()
    rank = spec["paths"]["/api/personalizer/v1.0/rank"]["post"]
    # each route declares its body and its error answers; bodies live in components
    assert rank["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RankRequest"
    }
    assert "RankableAction" in spec["components"]["schemas"]
    assert rank["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    # the reward's enforced bounds, and every answer a route can give (never FastAPI's 422)
    value = spec["components"]["schemas"]["RewardRequest"]["properties"]["value"]
    assert (value["minimum"], value["maximum"]) == (-1, 1)
    reward = spec["paths"]["/api/personalizer/v1.0/events/{eventId}/reward"]["post"]
    assert set(reward["responses"]) == {"204", "400", "401", "413", "503"}
    operations = [op for ops in spec["paths"].values() for op in ops.values()]
    assert not any("422" in op["responses"] for op in operations)
    exported = spec["paths"]["/api/personalizer/v1.0/model"]["get"]["responses"]["200"]
    assert list(exported["content"]) == ["application/octet-stream"]  # bytes, never JSON
    assert live_host.session.get(live_host.url("/docs")).status_code == 200
