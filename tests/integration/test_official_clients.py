"""The official Personalizer clients, unmodified, against a live local host: the 2022-09
`azure-ai-personalizer` (rank, reward, activate; the admin client's configuration, policy,
model, logs, evaluations and feature importances) and the v1.0 `azure-cognitiveservices-
personalizer` 0.1.1 (rank, reward, activate). Deliberate difference: reset_policy returns our
measured default policy, not Personalizer's (docs/migrate-from-personalizer.md)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.ai.personalizer import PersonalizerAdministrationClient, PersonalizerClient
from azure.core.credentials import AzureKeyCredential

from shared.policy import DEFAULT_POLICY
from tests.integration.conftest import LiveHost
from tests.integration.sdk_samples import ACTIONS as ACTIONS_SDK
from tests.integration.sdk_samples import CONTEXT, SLOT_ANSWERS, SLOTS

ACTIONS = [
    {"id": "news", "features": [{"topic": "news"}]},
    {"id": "sports", "features": [{"topic": "sports"}]},
]


def endpoint(host: LiveHost) -> str:
    return host.base  # http://127.0.0.1:<port>/api, as https://<app>.azurewebsites.net/api


def test_new_client_rank_reward_activate(live_host: LiveHost) -> None:
    client = PersonalizerClient(endpoint(live_host), AzureKeyCredential("unused-locally"))
    ranked = client.rank({"contextFeatures": [{"user": "Tom"}], "actions": ACTIONS})
    assert ranked["rewardActionId"] in {"news", "sports"} and ranked["eventId"]
    client.reward(ranked["eventId"], {"value": 1.0})
    deferred = client.rank({"actions": ACTIONS, "deferActivation": True})  # no context: valid
    client.activate(deferred["eventId"])
    client.activate("never-ranked")  # 204 for any id, as the service did


def test_admin_client_configuration_policy_and_model(live_host: LiveHost) -> None:
    admin = PersonalizerAdministrationClient(endpoint(live_host), AzureKeyCredential("x"))
    config = admin.get_service_configuration()
    config["rewardAggregation"] = "average"
    config["modelRetrainDays"] = 3
    updated = admin.update_service_configuration(config)
    assert updated["rewardAggregation"] == "average" and updated["modelRetrainDays"] == 3
    policy = admin.update_policy(
        {"name": "eps", "arguments": "--cb_explore_adf --epsilon 0.1 -q ::"}
    )
    assert "--epsilon 0.1" in policy["arguments"]
    assert admin.reset_policy()["arguments"] == DEFAULT_POLICY.arguments  # ours, on purpose
    model = b"".join(admin.export_model())
    assert len(model) > 100
    admin.import_model(io.BytesIO(model))
    admin.reset_model()
    assert admin.get_model_properties()["lastModifiedTime"]
    assert "dateRange" in admin.get_log_properties()
    admin.delete_logs()


def wait(get: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item: dict[str, Any] = get()
        if item["status"] not in ("Running", "NotSubmitted"):
            return item
        time.sleep(1)
    raise AssertionError(f"still pending: {item}")


def test_admin_client_evaluation_and_feature_importance(live_host: LiveHost) -> None:
    client = PersonalizerClient(endpoint(live_host), AzureKeyCredential("x"))
    for i in range(60):
        ranked = client.rank({"contextFeatures": [{"user": f"u{i % 2}"}], "actions": ACTIONS})
        if ranked["rewardActionId"] == ("news" if i % 2 else "sports"):
            client.reward(ranked["eventId"], {"value": 1.0})
    time.sleep(8)  # rewardWaitTime (3 s locally) + capture grace + a learn tick
    admin = PersonalizerAdministrationClient(endpoint(live_host), AzureKeyCredential("x"))
    start, end = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=5)
    eps = {"name": "eps", "arguments": "--cb_explore_adf --epsilon 0.2 -q ::"}
    window = {"name": "sdk", "startTime": start.isoformat(), "endTime": end.isoformat(),
              "policies": [eps]}  # fmt: skip
    admin.create_evaluation("sdk-eval", window)
    done = wait(lambda: admin.get_evaluation("sdk-eval", start_time=start, end_time=end))
    # the 2022-09 service's words and shape (its recordings): Succeeded, content.value per policy
    assert done["status"] == "Succeeded", done
    values = {v["name"]: v for v in done["content"]["value"]}
    assert {"online", "baseline", "random", "eps"} <= set(values)
    assert len(values["eps"]["summary"]["confidenceInterval"]) == 2
    assert values["online"]["policySource"] == "Online" and values["eps"]["timeseries"]["data"]
    assert any(e["id"] == "sdk-eval" for e in admin.list_evaluations())
    admin.apply_from_evaluation({"evaluationId": "sdk-eval", "policyName": "eps"})
    assert admin.get_policy() == eps
    admin.reset_policy()
    admin.create_feature_importance(
        "sdk-fi", {k: window[k] for k in ("name", "startTime", "endTime")}
    )
    scored = wait(lambda: admin.get_feature_importance("sdk-fi"))
    assert scored["status"] == "Succeeded" and scored["featureScores"], scored
    assert all({"namespace", "featureName", "score"} <= set(f) for f in scored["featureScores"])
    assert any(f["id"] == "sdk-fi" for f in admin.list_feature_importances())
    admin.delete_evaluation("sdk-eval")
    admin.delete_feature_importance("sdk-fi")


def test_old_client_rank_reward_activate(live_host: LiveHost) -> None:
    from azure.cognitiveservices.personalizer import PersonalizerClient as OldClient
    from azure.cognitiveservices.personalizer.models import RankableAction, RankRequest
    from msrest.authentication import CognitiveServicesCredentials

    client = OldClient(endpoint(live_host), CognitiveServicesCredentials("x"))
    request = RankRequest(
        actions=[RankableAction(id=a["id"], features=a["features"]) for a in ACTIONS],
        context_features=[{"user": "Anna"}],
        defer_activation=True,
    )
    response = client.rank(rank_request=request)
    assert response.reward_action_id in {"news", "sports"}
    client.events.activate(response.event_id)
    client.events.reward(response.event_id, value=0.5)


def test_new_client_multi_slot_as_its_own_tests_do(live_host: LiveHost) -> None:
    """azure-ai-personalizer's multi-slot tests: enable multi-slot the way its helper does (swap
    --cb_explore_adf for --ccb_explore_adf in the current policy), then rank, reward, activate."""
    admin = PersonalizerAdministrationClient(endpoint(live_host), AzureKeyCredential("x"))
    policy = admin.get_policy()
    multi_slot = policy["arguments"].replace("--cb_explore_adf", "--ccb_explore_adf")
    updated = admin.update_policy({"name": "enable multi slot", "arguments": multi_slot})
    assert "--ccb_explore_adf" in updated["arguments"]
    assert "--ccb_explore_adf" in admin.get_policy()["arguments"]
    client = PersonalizerClient(endpoint(live_host), AzureKeyCredential("x"))
    for request in (
        {"actions": ACTIONS_SDK, "slots": SLOTS, "eventId": "123456789"},
        {"actions": ACTIONS_SDK, "slots": SLOTS, "eventId": "123", "contextFeatures": CONTEXT},
    ):
        response = client.rank_multi_slot(request)
        assert response["eventId"] == request["eventId"]
        assert [s["rewardActionId"] for s in response["slots"]] == SLOT_ANSWERS
    client.reward_multi_slot("123456789", {"reward": [{"slotId": "Main Article", "value": 1.0}]})
    client.reward_multi_slot("123", {"reward": [{"slotId": "slot_id_to_be_rewarded", "value": 1}]})
    client.activate_multi_slot("123456789")
    # single-slot rank keeps working under the multi-slot policy
    assert client.rank({"actions": ACTIONS_SDK})["rewardActionId"]
    admin.reset_policy()
