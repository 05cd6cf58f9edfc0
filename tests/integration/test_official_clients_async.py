"""The async scenarios of azure-ai-personalizer 1.0.0b1's own test suite (tests/*_async.py in
Azure/azure-sdk-for-python, sdk/personalizer/azure-ai-personalizer), ported to run live against
the local host with the unmodified async clients (`azure.ai.personalizer.aio`, aiohttp).

Each scenario keeps its requests and checks. Deliberate differences, said where they happen:
reset_policy returns our measured default (docs/migrate-from-personalizer.md), and the SDK's
evaluation and feature-importance tests wait for a "Completed" status the 2022-09 service never
sent (its recordings show Running then Succeeded; the sync versions are skipped upstream for
that), so these wait for the service's words.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.ai.personalizer.aio import PersonalizerAdministrationClient, PersonalizerClient
from azure.core.credentials import AzureKeyCredential

from shared.policy import DEFAULT_POLICY
from tests.integration.conftest import LiveHost
from tests.integration.sdk_samples import ACTIONS, CONTEXT, SLOT_ANSWERS, SLOTS

KEY = AzureKeyCredential("unused-locally")


def run(host: LiveHost, scenario: Callable[..., Awaitable[None]]) -> None:
    async def main() -> None:
        async with (
            PersonalizerClient(host.base, KEY) as client,
            PersonalizerAdministrationClient(host.base, KEY) as admin,
        ):
            await scenario(client, admin)

    asyncio.run(main())


def test_rank_with_and_without_context_features(live_host: LiveHost) -> None:
    async def scenario(client: PersonalizerClient, _: Any) -> None:
        event_id = "123456789"
        response = await client.rank({"actions": ACTIONS, "eventId": event_id})
        assert response["eventId"] == event_id
        assert response["rewardActionId"] in {a["id"] for a in ACTIONS}
        request = {"actions": ACTIONS, "contextFeatures": CONTEXT, "eventId": event_id}
        response = await client.rank(request)
        assert response["rewardActionId"] and len(response["ranking"]) == len(ACTIONS)

    run(live_host, scenario)


def test_reward_and_activate(live_host: LiveHost) -> None:
    async def scenario(client: PersonalizerClient, _: Any) -> None:
        await client.reward("123456789", {"value": 1})
        await client.activate("123456789")  # any id: 204, as the service answered

    run(live_host, scenario)


async def enable_multi_slot(admin: PersonalizerAdministrationClient) -> None:
    """personalizer_helpers_async.enable_multi_slot: --cb_explore_adf -> --ccb_explore_adf."""
    policy = await admin.get_policy()
    if "--ccb_explore_adf" in policy["arguments"]:
        return
    configuration = await admin.get_service_configuration()
    if configuration.get("isAutoOptimizationEnabled"):
        configuration["isAutoOptimizationEnabled"] = False
        await admin.update_service_configuration(configuration)
    arguments = policy["arguments"].replace("--cb_explore_adf", "--ccb_explore_adf")
    await admin.update_policy({"name": "enable multi slot", "arguments": arguments})


def test_multi_slot_rank_with_and_without_context_features(live_host: LiveHost) -> None:
    async def scenario(client: PersonalizerClient, admin: Any) -> None:
        await enable_multi_slot(admin)
        event_id = "123456789"
        for extra in ({}, {"contextFeatures": CONTEXT}):
            request = {"actions": ACTIONS, "slots": SLOTS, "eventId": event_id, **extra}
            response = await client.rank_multi_slot(request)
            assert response["eventId"] == event_id
            slots = response["slots"]
            assert len(slots) == len(SLOTS)
            assert [s["rewardActionId"] for s in slots] == SLOT_ANSWERS

    run(live_host, scenario)


def test_multi_slot_reward_and_activate(live_host: LiveHost) -> None:
    async def scenario(client: PersonalizerClient, admin: Any) -> None:
        await enable_multi_slot(admin)
        reward = {"reward": [{"slotId": "slot_id_to_be_rewarded", "value": 1.0}]}
        await client.reward_multi_slot("123456789", reward)
        await client.activate_multi_slot("123456789")

    run(live_host, scenario)


def test_model_import_export(live_host: LiveHost) -> None:
    async def scenario(_: Any, admin: PersonalizerAdministrationClient) -> None:
        unsigned = b"".join([b async for b in await admin.export_model(signed=False)])
        signed = b"".join([b async for b in await admin.export_model(signed=True)])
        await admin.import_model(io.BytesIO(signed))
        again = b"".join([b async for b in await admin.export_model(signed=False)])
        assert unsigned == again and len(unsigned) > 100

    run(live_host, scenario)


def test_delete_log_and_log_properties(live_host: LiveHost) -> None:
    async def scenario(_: Any, admin: PersonalizerAdministrationClient) -> None:
        await admin.delete_logs()
        properties = await admin.get_log_properties()
        assert "dateRange" in properties

    run(live_host, scenario)


def test_run_evaluation_and_feature_importance(live_host: LiveHost) -> None:
    """test_evaluation_async / test_feature_importance_async, over traffic of this module's host
    (the SDK's tests evaluate days of the real resource's logs)."""

    async def scenario(client: PersonalizerClient, admin: PersonalizerAdministrationClient) -> None:
        for i in range(60):
            ranked = await client.rank({"contextFeatures": [{"user": f"u{i % 2}"}],
                                        "actions": ACTIONS})  # fmt: skip
            if ranked["rewardActionId"] == ("NewsArticle" if i % 2 else "SportsArticle"):
                await client.reward(ranked["eventId"], {"value": 1.0})
        await asyncio.sleep(8)  # rewardWaitTime (3 s locally) + capture grace + a learn tick
        start = datetime.now(UTC) - timedelta(hours=1)
        end = datetime.now(UTC) + timedelta(minutes=5)
        evaluation_id = str(uuid.uuid4())
        contract = {"name": "python_sdk_test_evaluation", "startTime": start, "endTime": end,
                    "enableOfflineExperimentation": True, "policies": []}  # fmt: skip
        await admin.create_evaluation(evaluation_id, contract)
        evaluation = await finished(lambda: admin.get_evaluation(
            evaluation_id, start_time=start, end_time=end))  # fmt: skip
        assert evaluation["id"] == evaluation_id
        assert evaluation["name"] == "python_sdk_test_evaluation"
        assert evaluation["status"] == "Succeeded", evaluation
        sources = {v["policySource"] for v in evaluation["content"]["value"]}
        assert {"Online", "Baseline", "Random", "OfflineExperimentation"} <= sources
        assert [e async for e in admin.list_evaluations()]
        await admin.delete_evaluation(evaluation_id)

        importance_id = str(uuid.uuid4())
        await admin.create_feature_importance(
            importance_id,
            {"name": "python_sdk_test_feature_imp", "startTime": start, "endTime": end},
        )
        importance = await finished(lambda: admin.get_feature_importance(importance_id))
        assert importance["id"] == importance_id
        assert importance["status"] == "Succeeded" and importance["featureScores"], importance
        assert [f async for f in admin.list_feature_importances()]
        await admin.delete_feature_importance(importance_id)

    run(live_host, scenario)


async def finished(get: Callable[[], Awaitable[Any]], timeout: float = 90) -> dict[str, Any]:
    """The SDK tests' wait loop, with the 2022-09 service's final words."""
    for _ in range(int(timeout)):
        item: dict[str, Any] = await get()
        if item["status"] in ("Succeeded", "Failed", "Timeout", "Canceled"):
            return item
        await asyncio.sleep(1)
    raise AssertionError(f"not finished: {item}")


def test_update_configuration_update_and_reset_policy(live_host: LiveHost) -> None:
    """Last in this module: it sets a 4-hour reward wait."""

    async def scenario(_: Any, admin: PersonalizerAdministrationClient) -> None:
        configuration = {
            "rewardAggregation": "average",
            "modelExportFrequency": "PT3M",
            "defaultReward": 1.0,
            "modelRetrainDays": 0,
            "rewardWaitTime": "PT4H",
            "explorationPercentage": 0.3,
            "logRetentionDays": -1,
            "learningMode": "Online",
        }
        fields = ("modelExportFrequency", "defaultReward", "modelRetrainDays", "rewardWaitTime",
                  "explorationPercentage", "logRetentionDays")  # fmt: skip
        updated = await admin.update_service_configuration(configuration)
        assert {k: updated[k] for k in fields} == {k: configuration[k] for k in fields}
        stored = await admin.get_service_configuration()
        assert {k: stored[k] for k in fields} == {k: configuration[k] for k in fields}

        policy = {
            "name": "app1",
            "arguments": "--cb_explore_adf --quadratic GT --quadratic MR --quadratic GR "
            "--quadratic ME --quadratic OT --quadratic OE --quadratic OR --quadratic MS "
            "--quadratic GX --ignore A --cb_type ips --epsilon 0.2",
        }
        assert (await admin.update_policy(policy))["arguments"] == policy["arguments"]
        assert (await admin.get_policy())["arguments"] == policy["arguments"]
        # deliberate difference: our default policy, chosen by measurement
        assert (await admin.reset_policy())["arguments"] == DEFAULT_POLICY.arguments

    run(live_host, scenario)
