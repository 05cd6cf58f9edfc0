"""The foundation's promises: what the host indexes, and health that names what is down."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from fastapi.testclient import TestClient

EXPECTED_FUNCTIONS = {
    "http_app_func",
    "capture_decisions",
    "capture_rewards",
    "aggregate_activity",
    "learn",
    "simulate",
    "evaluate",
    "auto_optimize",
}


@cache
def indexed() -> list[Any]:
    """The host indexes once; a second get_functions() on the same app fails its own checks."""
    import function_app

    return list(function_app.app.get_functions())


def test_function_app_indexes_exactly_these_functions() -> None:
    names = [f.get_function_name() for f in indexed()]
    assert sorted(names) == sorted(EXPECTED_FUNCTIONS)  # "0 functions loaded" fails here first


def test_event_hub_triggers_take_batches_from_settings() -> None:
    triggers = {f.get_function_name(): f.get_trigger().get_dict_repr() for f in indexed()}
    for name, hub in (
        ("capture_decisions", "%DECISIONS_HUB%"),
        ("capture_rewards", "%REWARDS_HUB%"),
        ("aggregate_activity", "%ACTIVITY_HUB%"),
    ):
        assert triggers[name]["type"] == "eventHubTrigger"
        assert triggers[name]["eventHubName"] == hub
        assert str(triggers[name]["cardinality"]).lower().endswith("many")
        assert triggers[name]["connection"] == "EventHubConnection"
    assert triggers["learn"]["schedule"] == "%LEARN_SCHEDULE%"
    assert triggers["auto_optimize"]["schedule"] == "%AUTO_OPTIMIZE_SCHEDULE%"
    assert triggers["simulate"]["type"] == "queueTrigger"
    assert triggers["simulate"]["queueName"] == "%SIMULATOR_QUEUE%"


def test_health_names_the_dependency_that_is_down(
    isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.api import create_api
    from tests.conftest import reset_caches

    client = TestClient(create_api())
    assert client.get("/api/health").status_code == 200
    # Point Cosmos at a port where nothing listens: only Cosmos must be reported down.
    monkeypatch.setenv(
        "COSMOS_CONNECTION", "AccountEndpoint=http://127.0.0.1:1/;AccountKey=bG9jYWw=;"
    )
    reset_caches()
    r = client.get("/api/health")
    assert r.status_code == 503
    assert r.json()["down"] == ["cosmos"]
    assert r.json()["dependencies"]["blob"]["status"] == "up"


def test_api_key_guards_personalizer_routes_when_set(
    isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.api import create_api
    from tests.conftest import reset_caches

    monkeypatch.setenv("PERSONALIZER_API_KEY", "local-test-key")
    reset_caches()
    client = TestClient(create_api())
    url = "/api/personalizer/v1.0/configurations/service"
    denied = client.get(url)
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "PermissionDenied"
    assert client.get(url, headers={"Ocp-Apim-Subscription-Key": "wrong"}).status_code == 401
    assert (
        client.get(url, headers={"Ocp-Apim-Subscription-Key": "local-test-key"}).status_code == 200
    )
    assert client.get("/api/health").status_code == 200  # health stays open for probes


def test_client_and_admin_keys_on_the_real_app(
    isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storefront's client key ranks and rewards but cannot reconfigure; an admin key can."""
    from functions.api import create_api
    from tests.conftest import reset_caches

    monkeypatch.setenv("API_CLIENT_KEYS", "client-1,client-2")
    monkeypatch.setenv("API_ADMIN_KEYS", "admin-1")
    reset_caches()
    client = TestClient(create_api())
    base = "/api/personalizer/v1.0"
    rank = {
        "contextFeatures": [{"user": "Tom"}],
        "actions": [{"id": "a", "features": [{"k": "a"}]}, {"id": "b", "features": [{"k": "b"}]}],
    }

    def call(method: str, path: str, key: str | None, **kw: object) -> int:
        headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
        return client.request(method, path, headers=headers, **kw).status_code  # type: ignore[arg-type]

    assert call("POST", f"{base}/rank", "client-2", json=rank) == 201
    assert call("POST", f"{base}/events/e1/reward", "client-1", json={"value": 1}) == 204
    assert call("GET", f"{base}/configurations/service", "client-1") == 403
    assert call("GET", f"{base}/configurations/service", "admin-1") == 200
    assert call("GET", "/api/catalog/offers", "client-1") == 403
    assert call("POST", f"{base}/rank", None, json=rank) == 401
    assert call("POST", f"{base}/rank", "nope", json=rank) == 401
    assert call("GET", "/api/health", None) == 200
    denied = client.get(f"{base}/configurations/policy", headers={"x-functions-key": "client-1"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Forbidden"
