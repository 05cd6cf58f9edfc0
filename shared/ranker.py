"""Rank, reward and activate: the one engine behind the Personalizer routes, the offers API and the
simulator. None of them does remote I/O: rank works from memory (model and configuration are
refreshed in the background) and all three log their event to a hub without waiting on the
network."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared import features
from shared.contracts import RankRequest
from shared.errors import ApiError, bad_request
from shared.events.codec import encode
from shared.events.decision import DecisionEvent
from shared.events.observation import ActivationEvent, RewardEvent
from shared.events.publisher import EventPublisher
from shared.sampling import epsilon_greedy, new_id, sample_index
from shared.serving_state import ServingState
from shared.settings import Settings


@dataclass(frozen=True)
class RankOutcome:
    response: dict[str, Any]  # the Personalizer rank response body
    decision: DecisionEvent  # what was logged to the decisions hub


def _feature_error(exc: features.FeatureError) -> ApiError:
    return bad_request(str(exc), code="InvalidRankRequest")


class Ranker:
    def __init__(
        self,
        serving: ServingState,
        publisher: EventPublisher,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serving = serving
        self._publisher = publisher
        self._settings = settings
        self._clock = clock

    def rank(
        self, request: RankRequest, learning_mode: str | None = None, arm: str = ""
    ) -> RankOutcome:
        """`learning_mode` overrides the service's for this decision (the offers API's control
        arm is logged as LoggingOnly: served the baseline, archived, never learned); `arm` is
        recorded in the decision."""
        config = self._serving.config()
        service, policy = config.service, config.policy
        mode = learning_mode or service.learningMode
        event_id = request.eventId or new_id()
        try:
            context, _ = features.context_line(request.contextFeatures)
            excluded = set(request.excludedActions)
            eligible = [a for a in request.actions if a.id not in excluded]
            lines = [features.cached_action_line(a.features, f"actions[{a.id}]") for a in eligible]
        except features.FeatureError as exc:
            raise _feature_error(exc) from exc

        loaded = self._serving.model()
        if loaded is None:
            # No model yet: explore around the baseline (the first action), as a fresh policy would.
            probabilities = epsilon_greedy(
                [1.0] + [0.0] * (len(eligible) - 1), service.explorationPercentage
            )
            model_version = "0"
        else:
            scores = loaded.model.predict([context, *lines])
            probabilities = (
                epsilon_greedy(scores, service.explorationPercentage)
                if policy.is_epsilon_greedy
                else scores
            )
            model_version = str(loaded.meta.version)

        order = sorted(range(len(eligible)), key=lambda i: -probabilities[i])
        if mode == "Online":
            chosen = sample_index(probabilities, event_id)
            logged = probabilities
        else:  # Apprentice and LoggingOnly serve the baseline, deterministically
            chosen = 0
            logged = [1.0 if i == 0 else 0.0 for i in range(len(eligible))]
        served = [chosen, *(i for i in order if i != chosen)]
        ranking = [{"id": eligible[i].id, "probability": probabilities[i]} for i in served]
        ranking += [{"id": a, "probability": 0.0} for a in request.excludedActions]

        decision = DecisionEvent(
            event_id=event_id,
            timestamp=self._clock(),
            context=request.contextFeatures,
            action_ids=[a.id for a in eligible],
            action_features=[a.features for a in eligible],
            ranking=served,
            probabilities=[logged[i] for i in served],
            excluded=list(request.excludedActions),
            model_version=model_version,
            learning_mode=mode,
            deferred=request.deferActivation,
            arm=arm,
        )
        self._publisher.publish(self._settings.decisions_hub, encode(decision), event_id)
        response = {"ranking": ranking, "eventId": event_id, "rewardActionId": eligible[chosen].id}
        return RankOutcome(response, decision)

    def reward(self, event_id: str, value: float, reward_id: str | None = None) -> None:
        """`reward_id`: stable when the caller can redeliver (activity events), so the join
        counts a redelivered reward once."""
        event = RewardEvent(event_id, reward_id or new_id(), value, self._clock())
        self._publisher.publish(self._settings.rewards_hub, encode(event), event_id)

    def activate(self, event_id: str) -> None:
        """Logged like a reward; any id is accepted (as Personalizer does: 204). An activation for
        an event that was not ranked with deferActivation changes nothing in learning."""
        event = ActivationEvent(event_id, self._clock())
        self._publisher.publish(self._settings.rewards_hub, encode(event), event_id)
