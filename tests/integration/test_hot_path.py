"""The hot path (functions/hot_path.py) and the FastAPI routes answer alike: the same status, body
and headers for valid and invalid requests, and the same decision logged, against the real
emulators. Each request goes through both doors: `create_app()` (what the host serves) and the
bare FastAPI app `create_api()`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from functions.api import create_api
from functions.hot_path import HotPath
from shared import wiring
from shared.events import standin
from shared.events.codec import decode
from shared.settings import get_settings
from tests.conftest import reset_caches

SAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "samples" / "rank-retail-25.json").read_text()
)
V1 = "/api/personalizer/v1.0"
JSON = {"content-type": "application/json"}


class Doors:
    """Both doors over one wiring; `fell_through` counts requests the hot path handed on."""

    def __init__(self) -> None:
        api = create_api()
        self.fell_through = 0

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                self.fell_through += 1
            await api(scope, receive, send)

        self.fast = TestClient(HotPath(counting, get_settings()), raise_server_exceptions=False)
        self.slow = TestClient(api, raise_server_exceptions=False)

    def both(self, method: str, path: str, **kwargs: Any) -> tuple[Any, Any]:
        before = self.fell_through
        fast = self.fast.request(method, path, **kwargs)
        self.handed_on = self.fell_through > before
        slow = self.slow.request(method, path, **kwargs)
        return fast, slow


def same(fast: Any, slow: Any) -> None:
    assert fast.status_code == slow.status_code, (fast.text, slow.text)
    assert fast.content == slow.content
    assert fast.headers.items() == slow.headers.items()


@pytest.fixture
def doors(isolated: dict[str, str]) -> Iterator[Doors]:
    yield Doors()
    wiring.current().publisher.flush(timeout=30)  # before the test's queues are dropped


def rank_body(**changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in SAMPLE.items() if k != "eventId"}
    body.update(changes)
    return body


VALID_RANKS = [
    rank_body(eventId="same-1"),
    rank_body(eventId="same-2", excludedActions=[SAMPLE["actions"][0]["id"]]),
    rank_body(eventId="same-3", deferActivation=True),
]


@pytest.mark.parametrize("body", VALID_RANKS, ids=["plain", "excluded", "deferred"])
def test_valid_rank_is_answered_alike_and_logs_the_same_decision(
    doors: Doors, body: dict[str, Any]
) -> None:
    fast, slow = doors.both("POST", f"{V1}/rank", content=orjson.dumps(body), headers=JSON)
    assert not doors.handed_on  # the hot path answered it itself
    assert fast.status_code == 201
    same(fast, slow)
    publisher = wiring.current().publisher
    assert publisher.flush(timeout=30)
    settings = wiring.current().settings
    name = standin.queue_name(settings.hub_standin_queue_prefix, settings.decisions_hub)
    queue = wiring.current().queue_service.get_queue_client(name)
    wires = []
    while batch := list(queue.receive_messages(messages_per_page=32, max_messages=32)):
        for message in batch:
            wires += [orjson.loads(e.body) for e in standin.decode(message.content)]
    logged = [w for w in wires if w["EventId"] == body["eventId"]]
    assert len(logged) == 2
    for wire in logged:
        decode(orjson.dumps(wire))  # well-formed
        del wire["Timestamp"], wire["_t"]
    assert logged[0] == logged[1]


MULTI_SLOT_BODY = {
    "contextFeatures": [{"user": {"type": "a"}}],
    "actions": SAMPLE["actions"][:4],
    "slots": [
        {"id": "top", "baselineAction": SAMPLE["actions"][0]["id"], "positionFeatures": [{"p": 1}]},
        {"id": "side", "baselineAction": SAMPLE["actions"][1]["id"]},
    ],
}
MULTI_SLOT_RANKS: list[tuple[str, bytes, int]] = [
    ("valid", orjson.dumps({**MULTI_SLOT_BODY, "eventId": "multi-1"}), 201),
    ("no-slots", orjson.dumps({**MULTI_SLOT_BODY, "slots": []}), 400),
    (
        "bad-baseline",
        orjson.dumps({**MULTI_SLOT_BODY, "slots": [{"id": "x", "baselineAction": "?"}]}),
        400,
    ),
    ("malformed", b'{"slots": [', 400),
]


@pytest.mark.parametrize(
    ("body", "status"), [c[1:] for c in MULTI_SLOT_RANKS], ids=[c[0] for c in MULTI_SLOT_RANKS]
)
def test_multi_slot_rank_is_answered_alike(doors: Doors, body: bytes, status: int) -> None:
    path = "/api/personalizer/multislot/rank?api-version=2022-09-01-preview"
    fast, slow = doors.both("POST", path, content=body, headers=JSON)
    assert not doors.handed_on
    assert fast.status_code == status, fast.text
    same(fast, slow)


INVALID_RANKS: list[tuple[str, bytes, dict[str, str]]] = [
    ("malformed", b'{"contextFeatures": [', JSON),
    ("not-json-type", orjson.dumps(rank_body()), {"content-type": "text/plain"}),
    ("no-type", orjson.dumps(rank_body()), {}),
    ("no-actions", orjson.dumps(rank_body(actions=[])), JSON),
    ("duplicate-ids", orjson.dumps(rank_body(actions=[SAMPLE["actions"][0]] * 2)), JSON),
    # (an empty context is valid: Personalizer ranks without contextFeatures)
    ("list-context", orjson.dumps(rank_body(contextFeatures=[["list"]])), JSON),
    ("number-context", orjson.dumps(rank_body(contextFeatures=[7])), JSON),
    ("unknown-excluded", orjson.dumps(rank_body(excludedActions=["nope"])), JSON),
    ("not-an-object", b"[1, 2]", JSON),
    ("long-event-id", orjson.dumps(rank_body(eventId="x" * 300)), JSON),
    ("too-large", b" " * (get_settings().max_request_bytes + 1), JSON),
]


@pytest.mark.parametrize(
    ("body", "headers"), [c[1:] for c in INVALID_RANKS], ids=[c[0] for c in INVALID_RANKS]
)
def test_invalid_rank_is_refused_alike(doors: Doors, body: bytes, headers: dict[str, str]) -> None:
    fast, slow = doors.both("POST", f"{V1}/rank", content=body, headers=headers)
    assert not doors.handed_on
    assert 400 <= fast.status_code < 500
    same(fast, slow)


REWARDS: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("valid", f"{V1}/events/e1/reward", b'{"value": 0.5}', JSON),
    ("preview-base", "/api/personalizer/v1.1-preview.3/events/e1/reward", b'{"value": 1}', JSON),
    (
        "query-base",
        "/api/personalizer/events/e1/reward?api-version=2022-09-01-preview",
        b'{"value": 1}',
        JSON,
    ),
    ("bool", f"{V1}/events/e1/reward", b'{"value": true}', JSON),
    ("string", f"{V1}/events/e1/reward", b'{"value": "1"}', JSON),
    ("missing", f"{V1}/events/e1/reward", b"{}", JSON),
    ("malformed", f"{V1}/events/e1/reward", b"{", JSON),
    ("wrong-type", f"{V1}/events/e1/reward", b'{"value": 1}', {"content-type": "text/plain"}),
    ("activate", f"{V1}/events/e1/activate", b"", {}),
    (
        "multi-slot",
        f"{V1}/multislot/events/e1/reward",
        b'{"reward": [{"slotId": "s", "value": 1}]}',
        JSON,
    ),
    ("multi-slot-bad", f"{V1}/multislot/events/e1/reward", b'{"reward": []}', JSON),
    ("multi-slot-missing", f"{V1}/multislot/events/e1/reward", b'{"value": 1}', JSON),
    ("multi-slot-activate", "/api/personalizer/multislot/events/e1/activate", b"", {}),
    ("activate-with-body", f"{V1}/events/e1/activate", b"not json", JSON),
]


@pytest.mark.parametrize(
    ("path", "body", "headers"), [c[1:] for c in REWARDS], ids=[c[0] for c in REWARDS]
)
def test_reward_and_activate_are_answered_alike(
    doors: Doors, path: str, body: bytes, headers: dict[str, str]
) -> None:
    fast, slow = doors.both("POST", path, content=body, headers=headers)
    assert not doors.handed_on
    same(fast, slow)


HANDED_ON: list[tuple[str, str, bytes]] = [
    ("long-id", f"{V1}/events/{'x' * 300}/reward", b'{"value": 1}'),
    ("trailing-slash", f"{V1}/rank/", orjson.dumps(rank_body())),
    ("unknown-base", "/api/personalizer/v9/rank", orjson.dumps(rank_body())),
    ("get-rank", f"{V1}/rank", b""),
    ("empty-id", f"{V1}/events//reward", b'{"value": 1}'),
]


@pytest.mark.parametrize(
    ("path", "body"), [c[1:] for c in HANDED_ON], ids=[c[0] for c in HANDED_ON]
)
def test_what_the_hot_path_does_not_take_goes_to_fastapi(
    doors: Doors, path: str, body: bytes
) -> None:
    method = "GET" if path.endswith("/rank") and not body else "POST"
    fast, slow = doors.both(method, path, content=body, headers=JSON, follow_redirects=False)
    assert doors.handed_on
    assert fast.status_code >= 300
    same(fast, slow)


def test_the_api_keys_guard_both_doors_alike(
    isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSONALIZER_API_KEY", "admin-key")
    monkeypatch.setenv("API_CLIENT_KEYS", "client-key")
    reset_caches()
    doors = Doors()
    body = orjson.dumps(rank_body(eventId="keyed"))
    cases = [
        ({}, 401),
        ({"Ocp-Apim-Subscription-Key": "wrong"}, 401),
        ({"Ocp-Apim-Subscription-Key": "client-key"}, 201),
        ({"x-functions-key": "admin-key"}, 201),
    ]
    for headers, status in cases:
        fast, slow = doors.both("POST", f"{V1}/rank", content=body, headers={**JSON, **headers})
        assert not doors.handed_on
        assert fast.status_code == status
        same(fast, slow)
    for headers, status in [({}, 401), ({"Ocp-Apim-Subscription-Key": "client-key"}, 204)]:
        fast, slow = doors.both("POST", f"{V1}/events/e1/activate", headers=headers)
        assert fast.status_code == status
        same(fast, slow)
    wiring.current().publisher.flush(timeout=30)  # before the test's queues are dropped


def test_a_missing_connection_is_a_503_at_both_doors(
    isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENT_TRANSPORT", "eventhubs")
    for name in ("EventHubConnection", "EventHubConnection__fullyQualifiedNamespace"):
        monkeypatch.delenv(name, raising=False)
    reset_caches()
    doors = Doors()
    fast, slow = doors.both("POST", f"{V1}/events/e1/reward", content=b'{"value": 1}', headers=JSON)
    assert not doors.handed_on
    assert fast.status_code == 503
    same(fast, slow)


@pytest.fixture
def shop(isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Doors]:
    from shared.catalog import demo

    # the profile read falls back to cold start after its timeout: on a loaded machine that
    # would differ between the two calls, so give it all the time it needs here
    monkeypatch.setenv("PROFILE_TIMEOUT_MS", "20000")
    reset_caches()
    demo.load(wiring.current().catalog)
    yield Doors()
    wiring.current().publisher.flush(timeout=30)


OFFERS: list[tuple[str, bytes, dict[str, str]]] = [
    ("homepage", b'{"userId": "u1", "eventId": "offers-1"}', JSON),
    ("product", b'{"userId": "u2", "placement": "product", "count": 2, "eventId": "o-2"}', JSON),
    ("context", b'{"sessionId": "s", "context": {"device": "mobile"}, "eventId": "o-3"}', JSON),
    ("unknown-field", b'{"userId": "u1", "nope": 1}', JSON),
    ("bad-placement", b'{"placement": "moon"}', JSON),
    ("bad-count", b'{"count": 0}', JSON),
    ("malformed", b"{", JSON),
    ("wrong-type", b'{"userId": "u1"}', {"content-type": "text/plain"}),
]


@pytest.mark.parametrize(("body", "headers"), [c[1:] for c in OFFERS], ids=[c[0] for c in OFFERS])
def test_post_offers_is_answered_alike(shop: Doors, body: bytes, headers: dict[str, str]) -> None:
    fast, slow = shop.both("POST", "/api/offers", content=body, headers=headers)
    assert not shop.handed_on
    assert fast.status_code in (200, 400)
    same(fast, slow)
    if fast.status_code == 200:
        assert fast.json()["offers"]


def test_get_offers_and_a_trailing_slash_go_to_fastapi(shop: Doors) -> None:
    fast, slow = shop.both("GET", "/api/offers?userId=u1")
    assert shop.handed_on and fast.status_code == slow.status_code == 200
    fast, slow = shop.both(
        "POST", "/api/offers/", content=b"{}", headers=JSON, follow_redirects=False
    )
    assert shop.handed_on
    same(fast, slow)
