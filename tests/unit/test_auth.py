"""API keys: which role each route needs, and what each key may do (shared/auth.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.auth import KeyRing, route_role
from shared.settings import Settings


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/api/personalizer/v1.0/rank", "client"),
        ("POST", "/api/personalizer/rank", "client"),
        ("POST", "/api/personalizer/v1.1-preview.3/multislot/rank", "client"),
        ("POST", "/api/personalizer/v1.0/events/e-1/reward", "client"),
        ("POST", "/api/personalizer/v1.1-preview.3/multislot/events/e-1/activate", "client"),
        ("POST", "/api/offers", "client"),
        ("GET", "/api/offers", "client"),
        ("POST", "/api/activity", "client"),
        ("GET", "/api/personalizer/v1.0/configurations/service", "admin"),
        ("PUT", "/api/personalizer/v1.0/configurations/policy", "admin"),
        ("GET", "/api/personalizer/v1.0/rank", "admin"),  # not a serving call
        ("GET", "/api/personalizer/v1.0/model", "admin"),
        ("PUT", "/api/catalog/offers/o1", "admin"),
        ("GET", "/api/stats/lift", "admin"),
        ("DELETE", "/api/users/u1", "admin"),
        ("POST", "/api/simulations", "admin"),
        ("GET", "/api/health", "public"),
        ("GET", "/api/openapi.json", "public"),
        ("GET", "/", "public"),
        ("GET", "/store", "public"),
        ("OPTIONS", "/api/offers", "public"),
    ],
)
def test_route_roles(method: str, path: str, role: str) -> None:
    assert route_role(method, path) == role


def ring(**keys: object) -> KeyRing:
    return KeyRing.from_settings(replace(Settings(), **keys))  # type: ignore[arg-type]


def headers(key: str, name: bytes = b"ocp-apim-subscription-key") -> dict[bytes, bytes]:
    return {name: key.encode()}


RANK = ("POST", "/api/personalizer/v1.0/rank")
CONFIG = ("GET", "/api/personalizer/v1.0/configurations/service")


def test_no_key_configured_is_open() -> None:
    assert ring().open and ring().authorize(*CONFIG, {}) is None


def test_client_keys_reach_serving_routes_only() -> None:
    keys = ring(client_keys=("c-old", "c-new"), admin_keys=("a1",))
    assert keys.authorize(*RANK, headers("c-old")) is None
    assert keys.authorize(*RANK, headers("c-new", b"x-functions-key")) is None  # rotation
    refused = keys.authorize(*CONFIG, headers("c-new"))
    assert refused is not None and (refused.status, refused.code) == (403, "Forbidden")
    assert keys.authorize(*CONFIG, headers("a1")) is None
    assert keys.authorize(*RANK, headers("a1")) is None


@pytest.mark.parametrize("sent", [None, "", "wrong", "c-ol", "c-old "])
def test_missing_or_wrong_keys_are_401(sent: str | None) -> None:
    keys = ring(client_keys=("c-old",), admin_keys=("a1",))
    refused = keys.authorize(*RANK, {} if sent is None else headers(sent))
    assert refused is not None and (refused.status, refused.code) == (401, "PermissionDenied")


def test_personalizers_single_key_does_everything_and_health_stays_open() -> None:
    keys = ring(api_key="the-one-key")
    assert keys.authorize(*CONFIG, headers("the-one-key")) is None
    assert keys.authorize(*RANK, headers("the-one-key")) is None
    assert keys.authorize("GET", "/api/health", {}) is None
    assert keys.authorize(*RANK, {}) is not None


def test_the_simulator_uses_a_client_key_when_it_has_none_of_its_own() -> None:
    settings = replace(Settings(), client_keys=("c1",), admin_keys=("a1",))
    assert settings.simulator_target()[1] == "c1"
    assert replace(settings, simulator_api_key="s").simulator_target()[1] == "s"
