"""The service configuration and learning policy: stored durably in Cosmos `config`, defaults
from settings, validated before anything is stored, read by every instance without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.contracts import PolicyContract, ServiceConfiguration
from shared.cosmos_store import CosmosStore
from shared.policy import DEFAULT_POLICY, Policy, from_contract, validate
from shared.settings import Settings

CONTAINER = "config"
SERVICE_ID = "service"
POLICY_ID = "policy"


@dataclass(frozen=True)
class ConfigSnapshot:
    service: ServiceConfiguration
    policy: Policy


def default_service(settings: Settings) -> ServiceConfiguration:
    d = settings.service_defaults
    return ServiceConfiguration(
        rewardWaitTime=d.reward_wait_time,
        defaultReward=d.default_reward,
        rewardAggregation=d.reward_aggregation,  # type: ignore[arg-type]
        explorationPercentage=d.exploration_percentage,
        modelExportFrequency=d.model_export_frequency,
        logRetentionDays=d.log_retention_days,
        learningMode=d.learning_mode,  # type: ignore[arg-type]
    )


def default_policy(settings: Settings) -> Policy:
    arguments = settings.service_defaults.policy_arguments
    contract = PolicyContract(name="default", arguments=arguments) if arguments else DEFAULT_POLICY
    return from_contract(contract)


class ConfigStore:
    def __init__(self, store: CosmosStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings

    def service(self) -> ServiceConfiguration:
        item = self._store.read(CONTAINER, SERVICE_ID)
        if item is None:
            return default_service(self._settings)
        return ServiceConfiguration.model_validate(item["value"])

    def put_service(self, config: ServiceConfiguration) -> ServiceConfiguration:
        stamped = config.model_copy(
            update={"lastConfigurationEditDate": datetime.now(UTC).isoformat()}
        )
        self._store.upsert(CONTAINER, {"id": SERVICE_ID, "value": stamped.model_dump()})
        return stamped

    def policy(self) -> Policy:
        item = self._store.read(CONTAINER, POLICY_ID)
        if item is None:
            return default_policy(self._settings)
        return from_contract(PolicyContract.model_validate(item["value"]))

    def put_policy(self, contract: PolicyContract) -> Policy:
        policy = validate(contract)  # raises PolicyError before anything is stored
        self._store.upsert(CONTAINER, {"id": POLICY_ID, "value": policy.contract().model_dump()})
        return policy

    def reset_policy(self) -> Policy:
        self._store.delete(CONTAINER, POLICY_ID)
        return default_policy(self._settings)

    def snapshot(self) -> ConfigSnapshot:
        return ConfigSnapshot(self.service(), self.policy())
