"""The Cosmos door's contract, run against the real emulator and the in-memory fake alike, so
unit tests that use the fake test what production does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared import wiring
from shared.config_store import ConfigStore
from shared.contracts import PolicyContract, ServiceConfiguration
from shared.cosmos_store import Conflict, NotFound, PreconditionFailed
from tests.fakes.cosmos import MemoryCosmosStore

CONTAINER = "config"  # a container every database has (shared/cosmos_store.CONTAINERS)


@pytest.fixture(params=["emulator", "fake"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield MemoryCosmosStore()
    else:
        request.getfixturevalue("isolated")
        yield wiring.current().cosmos


def test_create_read_conflict_delete(store: Any) -> None:
    assert store.read(CONTAINER, "a") is None
    created = store.create(CONTAINER, {"id": "a", "n": 1})
    assert created["n"] == 1 and created["_etag"]
    with pytest.raises(Conflict):
        store.create(CONTAINER, {"id": "a", "n": 2})
    assert store.read(CONTAINER, "a")["n"] == 1
    assert store.delete(CONTAINER, "a") is True
    assert store.delete(CONTAINER, "a") is False
    assert store.read(CONTAINER, "a") is None


def test_replace_is_guarded_by_the_etag(store: Any) -> None:
    first = store.create(CONTAINER, {"id": "b", "n": 1})
    second = store.replace(CONTAINER, {**first, "n": 2}, first["_etag"])
    assert second["_etag"] != first["_etag"]
    with pytest.raises(PreconditionFailed):
        store.replace(CONTAINER, {**first, "n": 3}, first["_etag"])  # stale
    assert store.read(CONTAINER, "b")["n"] == 2


def test_patch_set_incr_remove_and_etag(store: Any) -> None:
    with pytest.raises(NotFound):
        store.patch(CONTAINER, "c", [{"op": "set", "path": "/x", "value": 1}])
    item = store.create(CONTAINER, {"id": "c", "count": 1, "nested": {"k": "v"}})
    patched = store.patch(
        CONTAINER,
        "c",
        [
            {"op": "incr", "path": "/count", "value": 2},
            {"op": "set", "path": "/nested/j", "value": "w"},
            {"op": "remove", "path": "/nested/k"},
        ],
    )
    assert patched["count"] == 3 and patched["nested"] == {"j": "w"}
    with pytest.raises(PreconditionFailed):
        store.patch(CONTAINER, "c", [{"op": "set", "path": "/x", "value": 1}], item["_etag"])


def test_config_store_round_trip(store: Any) -> None:
    configs = ConfigStore(store, wiring.current().settings)
    default = configs.service()
    stored = configs.put_service(default.model_copy(update={"defaultReward": 0.25}))
    assert isinstance(stored, ServiceConfiguration)
    assert configs.service().defaultReward == 0.25
    policy = configs.put_policy(
        PolicyContract(name="p", arguments="--cb_explore_adf --epsilon 0.3")
    )
    assert configs.policy().arguments == policy.arguments
    configs.reset_policy()
    assert configs.policy().arguments != policy.arguments
