"""Application settings, read once from the environment.

Names follow the Functions convention: the same keys live in `local.settings.json` (Values) locally
and in the function app's app settings in Azure (see infra/bicep). The one other reader of the
environment is shared/connections.py, which resolves connection settings the way the Functions host
resolves its bindings' `connection` names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class ServiceDefaults:
    """Personalizer service configuration used until one is stored (see shared/config_store.py)."""

    reward_wait_time: str = "PT10M"
    model_export_frequency: str = "PT5M"
    default_reward: float = 0.0
    reward_aggregation: str = "earliest"
    exploration_percentage: float = 0.2
    log_retention_days: int = 90
    learning_mode: str = "Online"
    policy_arguments: str = ""  # empty: the measured default in shared/policy.py


# How events reach the hubs. Azure: Event Hubs. Locally there is no Event Hubs namespace, so the
# same publisher interface writes to one Storage queue per hub and devhost delivers them to the
# Event Hub triggers. Never chosen implicitly: a missing hub connection must fail loudly, not send
# every event to a queue that nothing reads in Azure.
TRANSPORTS = ("eventhubs", "storage-queues")


@dataclass(frozen=True)
class Settings:
    storage_connection_name: str = "AzureWebJobsStorage"
    cosmos_connection_name: str = "COSMOS_CONNECTION"
    eventhub_connection_name: str = "EventHubConnection"
    event_transport: str = "eventhubs"
    cosmos_database: str = "offers"
    activity_hub: str = "activity"
    decisions_hub: str = "decisions"
    rewards_hub: str = "rewards"
    hub_standin_queue_prefix: str = "hub-"
    models_container: str = "models"
    archive_container: str = "archive"
    events_container: str = "events"  # captured hub batches the learner reads (shared/capture.py)
    learn_window_seconds: int = 10  # enqueued-time window of the event log
    learn_grace_seconds: float = 30.0  # capture lag the learner waits for past rewardWaitTime
    model_poll_seconds: float = 60.0
    config_cache_seconds: float = 30.0
    max_request_bytes: int = 1_048_576
    publish_buffer_size: int = 20_000
    api_key: str = ""  # Personalizer's single key: an admin key (shared/auth.py)
    client_keys: tuple[str, ...] = ()  # serving routes only (rank, reward, offers, activity)
    admin_keys: tuple[str, ...] = ()  # every route
    catalog_cache_seconds: float = 30.0  # the serving copy of the catalog (shared/catalog/cache.py)
    offers_control_percent: float = 10.0  # share of visitors in the offers API's control group
    offers_dismiss_days: float = 7.0  # a dismissed offer is not shown again for this long
    profile_timeout_ms: float = 50.0  # the profile read on /api/offers; slower: cold start
    profile_cache_seconds: float = 5.0  # a visitor's profile reused across a burst of page views
    activity_rewards: str = "offer_click=0.2,add_to_cart=0.5,purchase=1.0"  # type=reward,...
    signals_cache_seconds: float = 30.0  # popularity / also-bought lists the offers API reads
    # The simulator (simulator/runs.py): its queue, its run state, and the app it drives (empty
    # base URL: this app, https://WEBSITE_HOSTNAME/api in Azure; empty key: PERSONALIZER_API_KEY)
    simulator_queue: str = "simulate"
    evaluations_queue: str = "evaluate"  # offline evaluation jobs (poison: <queue>-poison)
    simulations_container: str = "simulations"
    simulator_base_url: str = ""
    simulator_api_key: str = ""
    website_hostname: str = ""
    service_defaults: ServiceDefaults = field(default_factory=ServiceDefaults)

    def hub_names(self) -> dict[str, str]:
        return {
            "activity": self.activity_hub,
            "decisions": self.decisions_hub,
            "rewards": self.rewards_hub,
        }

    def simulator_target(self) -> tuple[str, str]:
        """The base URL and key the simulator's visitors call."""
        if self.simulator_base_url:
            base = self.simulator_base_url
        elif self.website_hostname:
            base = f"https://{self.website_hostname}/api"
        else:
            base = "http://127.0.0.1:7071/api"
        # visitors call serving routes only: a client key is enough
        keys = [self.simulator_api_key, *self.client_keys, self.api_key, *self.admin_keys]
        return base, next((k for k in keys if k), "")


def _str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _list(name: str) -> tuple[str, ...]:
    """A comma-separated setting (several keys, for rotation)."""
    return tuple(v.strip() for v in os.environ.get(name, "").split(",") if v.strip())


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"setting {name}={raw!r} is not a number") from exc


def load_settings() -> Settings:
    base = ServiceDefaults()
    defaults = ServiceDefaults(
        reward_wait_time=_str("PERSONALIZER_REWARD_WAIT_TIME", base.reward_wait_time),
        model_export_frequency=_str(
            "PERSONALIZER_MODEL_EXPORT_FREQUENCY", base.model_export_frequency
        ),
        default_reward=_float("PERSONALIZER_DEFAULT_REWARD", base.default_reward),
        reward_aggregation=_str("PERSONALIZER_REWARD_AGGREGATION", base.reward_aggregation),
        exploration_percentage=_float(
            "PERSONALIZER_EXPLORATION_PERCENTAGE", base.exploration_percentage
        ),
        log_retention_days=int(_float("PERSONALIZER_LOG_RETENTION_DAYS", base.log_retention_days)),
        learning_mode=_str("PERSONALIZER_LEARNING_MODE", base.learning_mode),
        policy_arguments=_str("PERSONALIZER_POLICY_ARGUMENTS", base.policy_arguments),
    )
    s = Settings()
    transport = _str("EVENT_TRANSPORT", s.event_transport).lower()
    if transport not in TRANSPORTS:
        raise ValueError(f"setting EVENT_TRANSPORT={transport!r} must be one of {TRANSPORTS}")
    return Settings(
        event_transport=transport,
        cosmos_database=_str("COSMOS_DATABASE", s.cosmos_database),
        activity_hub=_str("ACTIVITY_HUB", s.activity_hub),
        decisions_hub=_str("DECISIONS_HUB", s.decisions_hub),
        rewards_hub=_str("REWARDS_HUB", s.rewards_hub),
        hub_standin_queue_prefix=_str("HUB_STANDIN_QUEUE_PREFIX", s.hub_standin_queue_prefix),
        models_container=_str("MODELS_CONTAINER", s.models_container),
        archive_container=_str("ARCHIVE_CONTAINER", s.archive_container),
        events_container=_str("EVENTS_CONTAINER", s.events_container),
        learn_window_seconds=max(1, int(_float("LEARN_WINDOW_SECONDS", s.learn_window_seconds))),
        learn_grace_seconds=_float("LEARN_GRACE_SECONDS", s.learn_grace_seconds),
        model_poll_seconds=_float("MODEL_POLL_SECONDS", s.model_poll_seconds),
        config_cache_seconds=_float("CONFIG_CACHE_SECONDS", s.config_cache_seconds),
        max_request_bytes=int(_float("MAX_REQUEST_BYTES", s.max_request_bytes)),
        publish_buffer_size=int(_float("PUBLISH_BUFFER_SIZE", s.publish_buffer_size)),
        api_key=_str("PERSONALIZER_API_KEY", ""),
        client_keys=_list("API_CLIENT_KEYS"),
        admin_keys=_list("API_ADMIN_KEYS"),
        catalog_cache_seconds=_float("CATALOG_CACHE_SECONDS", s.catalog_cache_seconds),
        offers_control_percent=_float("OFFERS_CONTROL_PERCENT", s.offers_control_percent),
        offers_dismiss_days=_float("OFFERS_DISMISS_DAYS", s.offers_dismiss_days),
        profile_timeout_ms=_float("PROFILE_TIMEOUT_MS", s.profile_timeout_ms),
        profile_cache_seconds=_float("PROFILE_CACHE_SECONDS", s.profile_cache_seconds),
        activity_rewards=_str("ACTIVITY_REWARDS", s.activity_rewards),
        signals_cache_seconds=_float("SIGNALS_CACHE_SECONDS", s.signals_cache_seconds),
        simulator_queue=_str("SIMULATOR_QUEUE", s.simulator_queue),
        evaluations_queue=_str("EVALUATIONS_QUEUE", s.evaluations_queue),
        simulations_container=_str("SIMULATIONS_CONTAINER", s.simulations_container),
        simulator_base_url=_str("SIMULATOR_BASE_URL", ""),
        simulator_api_key=_str("SIMULATOR_API_KEY", ""),
        website_hostname=_str("WEBSITE_HOSTNAME", ""),
        service_defaults=defaults,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The worker's settings; tests call `get_settings.cache_clear()` after changing the env."""
    return load_settings()
