"""The engine's pure parts: sampling, reward aggregation, DSJSON, contracts, policies."""

from __future__ import annotations

import collections

import pytest
from pydantic import ValidationError

from shared.contracts import RankRequest, RewardRequest, ServiceConfiguration
from shared.dsjson import line_to_json
from shared.join import final_reward
from shared.policy import DEFAULT_POLICY, PolicyError, from_contract, normalise
from shared.sampling import FLOOR_MASS, epsilon_greedy, sample_index, seeded_uniform, with_floor


def test_seeded_choice_replays_and_follows_probabilities() -> None:
    probabilities = [0.7, 0.2, 0.1]
    assert sample_index(probabilities, "event-1") == sample_index(probabilities, "event-1")
    counts = collections.Counter(sample_index(probabilities, f"e{i}") for i in range(20_000))
    for index, p in enumerate(probabilities):
        assert abs(counts[index] / 20_000 - p) < 0.015
    assert 0.0 <= seeded_uniform("x") < 1.0


def test_epsilon_greedy_puts_the_rest_on_the_best() -> None:
    assert epsilon_greedy([0.1, 0.9, 0.0, 0.0], 0.2) == pytest.approx([0.05, 0.85, 0.05, 0.05])
    assert epsilon_greedy([1.0, 1.0], 0.0) == [1.0, 0.0]  # ties: first wins


def _config(**changes: object) -> ServiceConfiguration:
    base = {
        "rewardWaitTime": "PT10S",
        "defaultReward": -0.5,
        "rewardAggregation": "earliest",
        "explorationPercentage": 0.2,
        "modelExportFrequency": "PT5S",
        "logRetentionDays": 7,
    }
    return ServiceConfiguration.model_validate({**base, **changes})


def test_reward_aggregation_window_and_default() -> None:
    doc = {
        "matureAt": 110.0,
        "rewards": {
            "b": {"v": 0.25, "t": 104.0},
            "a": {"v": 1.0, "t": 103.0},
            "late": {"v": 1.0, "t": 111.0},  # after the window: ignored
        },
    }
    assert final_reward(doc, _config()) == 1.0
    assert final_reward(doc, _config(rewardAggregation="sum")) == 1.25
    assert final_reward(doc, _config(rewardAggregation="average")) == 0.625
    assert final_reward({"matureAt": 1.0, "rewards": {}}, _config()) == -0.5


def test_line_to_json_keeps_every_feature() -> None:
    line = "shared |User user=Tom n:2.5 flag |x%20y a |User more=1"
    assert line_to_json(line) == {
        "User": {"user=Tom": 1, "n": 2.5, "flag": 1, "more=1": 1},
        "x%20y": {"a": 1},
    }
    assert line_to_json("| price:3") == {" ": {"price": 3}}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"contextFeatures": [{"a": {"b": 1}}], "actions": []}, "at least 1"),
        (
            {"contextFeatures": [{"a": {"b": 1}}], "actions": [{"id": "x"}, {"id": "x"}]},
            "duplicate",
        ),
        ({"contextFeatures": [{"a": {"b": 1}}], "actions": [{"id": "x" * 257}]}, "at most 256"),
        (
            {"contextFeatures": [{"a": 1}], "actions": [{"id": f"a{i}"} for i in range(51)]},
            "at most 50",
        ),
        (
            {"contextFeatures": [{"a": 1}], "actions": [{"id": "x"}], "excludedActions": ["x"]},
            "every action is excluded",
        ),
    ],
)
def test_rank_request_rejects(body: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        RankRequest.model_validate(body)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [True, "1", None, 1.5, -1.01, float("nan")])
def test_reward_value_must_be_a_number_in_range(value: object) -> None:
    with pytest.raises(ValidationError):
        RewardRequest.model_validate({"value": value})
    assert RewardRequest.model_validate({"value": -1}).value == -1.0


@pytest.mark.parametrize(
    "change",
    [
        {"rewardWaitTime": "ten minutes"},
        {"rewardWaitTime": "P3D"},
        {"defaultReward": 2},
        {"rewardAggregation": "max"},
        {"explorationPercentage": 1.5},
        {"logRetentionDays": 0},
        {"learningMode": "Offline"},
    ],
)
def test_service_configuration_rejects(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _config(**change)


def test_policy_normalisation() -> None:
    args = "--cb_explore_adf --epsilon 0.2 --dsjson --cb_type ips -l 0.5"
    assert normalise(args) == "--cb_explore_adf --epsilon 0.2 --cb_type ips -l 0.5"
    for bad in ("--cb_explore_adf -f /etc/passwd", "--cb_adf", "--cb_explore_adf -d x"):
        with pytest.raises(PolicyError):
            normalise(bad)
    assert from_contract(DEFAULT_POLICY).is_epsilon_greedy is False
    assert (
        normalise("--cb_explore_adf --epsilon 0.1")
        and from_contract(
            DEFAULT_POLICY.model_copy(update={"arguments": "--cb_explore_adf --epsilon 0.1"})
        ).is_epsilon_greedy
    )


def test_the_probability_floor_lifts_every_action_with_the_least_mixing() -> None:
    greedy = [0.0, 1.0, 0.0, 0.0]  # synthcover's end state
    lifted = with_floor(greedy)
    assert min(lifted) == pytest.approx(FLOOR_MASS / 4) and sum(lifted) == pytest.approx(1.0)
    assert lifted[1] == pytest.approx(1.0 - 3 * FLOOR_MASS / 4)  # the greedy action keeps the rest
    partial = [0.005, 0.6, 0.395]
    lifted = with_floor(partial)
    assert min(lifted) == pytest.approx(FLOOR_MASS / 3) and sum(lifted) == pytest.approx(1.0)
    assert lifted[1] < 0.6 and lifted[2] < 0.395  # mixed, order kept
    explored = epsilon_greedy([0.1, 0.9, 0.3], 0.2)  # already above the floor: unchanged
    assert with_floor(explored) is explored
    assert with_floor([1.0]) == [1.0]
