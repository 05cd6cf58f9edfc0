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
from shared.contracts import MultiSlotRankRequest, RankableAction, RankRequest, action_features
from shared.errors import ApiError, bad_request
from shared.events.codec import encode
from shared.events.decision import DecisionEvent
from shared.events.observation import ActivationEvent, RewardEvent
from shared.events.publisher import EventPublisher
from shared.sampling import epsilon_greedy, new_id, sample_index, with_floor
from shared.serving_state import ServingState
from shared.settings import Settings


@dataclass(frozen=True)
class RankOutcome:
    response: dict[str, Any]  # the Personalizer rank response body
    decision: DecisionEvent  # what was logged to the decisions hub


SLOT_NAMESPACE = "Slot"


def slot_namespace(slot_id: str, slot_features: list[Any]) -> dict[str, Any]:
    """A slot's features as one context namespace, its id included so position effects are
    learned even for slots described by nothing else. Later objects win on a repeated name."""
    merged: dict[str, Any] = {"slotId": slot_id}
    for element in slot_features:
        if isinstance(element, dict):
            merged.update(element)
        else:
            raise features.FeatureError(f"slot {slot_id!r}: features must be JSON objects")
    return {SLOT_NAMESPACE: merged}


def action_lines(actions: list[RankableAction], feature_lists: list[Any]) -> list[str]:
    """The actions' VW lines from their `feature_lists` (read once per rank: the decision event
    logs the same lists). The location for an error message is built only when one is raised (a
    per-action f-string on every rank cost more than the memoised lookups)."""
    try:
        return [features.cached_action_line(f) for f in feature_lists]
    except features.FeatureError:
        for a, f in zip(actions, feature_lists, strict=True):  # again, to name the action
            features.cached_action_line(f, f"actions[{a['id']}]")
        raise


def slot_event_id(event_id: str, slot_id: str) -> str:
    """The logged decision of one slot; `#` cannot reach a route's event id unescaped."""
    return f"{event_id}#{slot_id}"


def _feature_error(exc: features.FeatureError, code: str = "InvalidRankRequest") -> ApiError:
    return bad_request(str(exc), code=code)


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
        event_id = request.eventId or new_id()
        try:
            context, _ = features.context_line(request.contextFeatures)
            eligible = request.actions
            if request.excludedActions:
                excluded = set(request.excludedActions)
                eligible = [a for a in eligible if a["id"] not in excluded]
            feature_lists = [action_features(a) for a in eligible]
            lines = action_lines(eligible, feature_lists)
        except features.FeatureError as exc:
            raise _feature_error(exc) from exc
        decision, probabilities = self._decide(
            event_id,
            request.contextFeatures,
            context,
            eligible,
            feature_lists,
            lines,
            request.excludedActions,
            mode=learning_mode,
            deferred=request.deferActivation,
            arm=arm,
        )
        self._publisher.publish(self._settings.decisions_hub, encode(decision), event_id)
        ranking = [
            {"id": eligible[i]["id"], "probability": probabilities[i]} for i in decision.ranking
        ]
        ranking += [{"id": a, "probability": 0.0} for a in request.excludedActions]
        response = {
            "ranking": ranking,
            "eventId": event_id,
            "rewardActionId": eligible[decision.chosen_index]["id"],
        }
        return RankOutcome(response, decision)

    def rank_multi_slot(self, request: MultiSlotRankRequest) -> dict[str, Any]:
        """One decision per slot, in slot order, as VW's conditional contextual bandit
        (`--ccb_explore_adf`) reduces it: slot k chooses among the actions neither excluded for it
        nor chosen for an earlier slot, its baseline first, with the context plus the slot's
        features. Each slot is logged as its own decision `{eventId}#{slotId}` (grouped under the
        event id, which activate uses), so it joins, learns and archives like a single-slot one."""
        event_id = request.eventId or new_id()
        try:
            ids = [a["id"] for a in request.actions]
            all_features = [action_features(a) for a in request.actions]
            features_by_id = dict(zip(ids, all_features, strict=True))
            lines_by_id = dict(zip(ids, action_lines(request.actions, all_features), strict=True))
            slot_contexts = []
            for index, slot in enumerate(request.slots):
                context = [*request.contextFeatures, slot_namespace(slot.id, slot.slot_features)]
                line, _ = features.context_line(context, f"slots[{index}].features")
                slot_contexts.append((context, line))
        except features.FeatureError as exc:
            raise _feature_error(exc, "InvalidMultiSlotRankRequest") from exc
        by_id = {a["id"]: a for a in request.actions}
        taken: set[str] = set()
        decisions: list[DecisionEvent] = []
        results: list[dict[str, Any]] = []
        for slot, (context, line) in zip(request.slots, slot_contexts, strict=True):
            unavailable = taken | set(slot.excludedActions)
            order = [slot.baselineAction, *(a for a in by_id if a != slot.baselineAction)]
            eligible = [by_id[a] for a in order if a not in unavailable]
            if not eligible:
                results.append({"id": slot.id, "rewardActionId": None})
                continue
            decision, _ = self._decide(
                slot_event_id(event_id, slot.id),
                context,
                line,
                eligible,
                [features_by_id[a["id"]] for a in eligible],
                [lines_by_id[a["id"]] for a in eligible],
                sorted(unavailable),
                mode=None,
                deferred=request.deferActivation,
                group=event_id,
            )
            chosen = eligible[decision.chosen_index]["id"]
            taken.add(chosen)
            decisions.append(decision)
            results.append({"id": slot.id, "rewardActionId": chosen})
        for decision in decisions:
            self._publisher.publish(
                self._settings.decisions_hub, encode(decision), decision.event_id
            )
        return {"slots": results, "eventId": event_id}

    def _decide(
        self,
        event_id: str,
        context_features: list[Any],
        context: str,
        eligible: list[RankableAction],
        feature_lists: list[Any],
        lines: list[str],
        excluded: list[str],
        *,
        mode: str | None,
        deferred: bool,
        arm: str = "",
        group: str = "",
    ) -> tuple[DecisionEvent, list[float]]:
        """Score, explore and draw among `eligible` (the baseline first): the decision to log and
        the policy's probabilities (what rank shows, also when the mode logs the baseline).
        `mode`: the learning mode, when not the service's."""
        config = self._serving.config()
        service, policy = config.service, config.policy
        mode = mode or service.learningMode
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
        probabilities = with_floor(probabilities)  # every action stays evaluable offline

        # highest first, ties in request order (a stable sort keeps it with reverse=True too)
        order = sorted(range(len(eligible)), key=probabilities.__getitem__, reverse=True)
        if mode == "Online":
            chosen = sample_index(probabilities, event_id)
            logged = probabilities
        else:  # Apprentice and LoggingOnly serve the baseline, deterministically
            chosen = 0
            logged = [1.0 if i == 0 else 0.0 for i in range(len(eligible))]
        served = [chosen] + [i for i in order if i != chosen]
        decision = DecisionEvent(
            event_id=event_id,
            timestamp=self._clock(),
            context=context_features,
            action_ids=[a["id"] for a in eligible],
            action_features=feature_lists,
            ranking=served,
            probabilities=[logged[i] for i in served],
            excluded=excluded,
            model_version=model_version,
            learning_mode=mode,
            deferred=deferred,
            arm=arm,
            group=group,
        )
        return decision, probabilities

    def reward(self, event_id: str, value: float, reward_id: str | None = None) -> None:
        """`reward_id`: stable when the caller can redeliver (activity events), so the join
        counts a redelivered reward once."""
        event = RewardEvent(event_id, reward_id or new_id(), value, self._clock())
        self._publisher.publish(self._settings.rewards_hub, encode(event), event_id)

    def reward_slots(self, event_id: str, rewards: list[tuple[str, float]]) -> None:
        """Multi-slot rewards: each goes to its slot's decision (an unknown slot id is accepted
        and never joins, like a reward for an unknown event)."""
        for slot_id, value in rewards:
            self.reward(slot_event_id(event_id, slot_id), value)

    def activate(self, event_id: str) -> None:
        """Logged like a reward; any id is accepted (as Personalizer does: 204). An activation for
        an event that was not ranked with deferActivation changes nothing in learning."""
        event = ActivationEvent(event_id, self._clock())
        self._publisher.publish(self._settings.rewards_hub, encode(event), event_id)
