"""Request and configuration shapes of the Personalizer API (v1.0 / v1.1-preview.3 / 2022-09).

Pydantic checks types and bounds; rules that need the features themselves (a context with no
features) live in shared/ranker.py. Unknown fields are ignored, as Personalizer does.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

MAX_ACTIONS = 50
MAX_ID_LENGTH = 256

_duration = TypeAdapter(timedelta)


def parse_duration(value: str) -> timedelta:
    """ISO-8601 duration (PT10M) or hh:mm:ss, as Personalizer accepts."""
    return _duration.validate_python(value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# Feature objects are checked (and their errors located) by shared/features.py while converting
# them; walking them here too would cost a third of the validation time on the hot path.
FeatureList = Annotated[list[Any], Field(json_schema_extra={"items": {"type": "object"}})]


class RankableAction(TypedDict):
    """An action: `{"id", "features"}`. A TypedDict, not a model: rank validates up to 50 of
    them per request, and pydantic checks dicts in about half the time it builds model objects
    (docs/benchmarks.md, rank). Read `features` with `action_features(a)` (it may be absent)."""

    id: Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]
    features: NotRequired[FeatureList]


_NO_FEATURES: list[Any] = []


def action_features(action: RankableAction) -> list[Any]:
    return action.get("features", _NO_FEATURES)


class RankRequest(_Model):
    # optional: without context the bandit learns over the actions' features alone
    contextFeatures: FeatureList = Field(default_factory=list)
    actions: list[RankableAction] = Field(min_length=1, max_length=MAX_ACTIONS)
    excludedActions: list[str] = Field(default_factory=list)
    eventId: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    deferActivation: bool = False

    @model_validator(mode="after")
    def _ids_consistent(self) -> RankRequest:
        ids = {a["id"] for a in self.actions}
        if len(ids) != len(self.actions):
            raise ValueError(
                f"duplicate action id {_first_duplicate([a['id'] for a in self.actions])!r}"
            )
        if self.excludedActions:
            unknown = [a for a in self.excludedActions if a not in ids]
            if unknown:
                raise ValueError(f"excludedActions names unknown action ids {unknown[:5]}")
            if ids.issubset(self.excludedActions):
                raise ValueError("every action is excluded; nothing left to rank")
        return self


class SlotRequest(_Model):
    """One slot of a multi-slot rank: v1.1-preview.3 calls its features `features`, 2022-09
    `positionFeatures`; both are accepted (and joined)."""

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    baselineAction: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    features: FeatureList = Field(default_factory=list)
    positionFeatures: FeatureList = Field(default_factory=list)
    excludedActions: list[str] = Field(default_factory=list)

    @property
    def slot_features(self) -> list[Any]:
        return [*self.features, *self.positionFeatures]


class MultiSlotRankRequest(_Model):
    contextFeatures: FeatureList = Field(default_factory=list)
    actions: list[RankableAction] = Field(min_length=1, max_length=MAX_ACTIONS)
    slots: list[SlotRequest] = Field(min_length=1, max_length=MAX_ACTIONS)
    eventId: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    deferActivation: bool = False

    @model_validator(mode="after")
    def _slots_consistent(self) -> MultiSlotRankRequest:
        ids = [a["id"] for a in self.actions]
        known = set(ids)
        if len(known) != len(ids):
            raise ValueError(f"duplicate action id {_first_duplicate(ids)!r}")
        slot_ids = [s.id for s in self.slots]
        if len(set(slot_ids)) != len(slot_ids):
            raise ValueError(f"duplicate slot id {_first_duplicate(slot_ids)!r}")
        baselines = [s.baselineAction for s in self.slots]
        if len(set(baselines)) != len(baselines):
            # each slot serves its baseline in Apprentice mode: a shared one would repeat
            raise ValueError(f"baselineAction {_first_duplicate(baselines)!r} is used by two slots")
        for slot in self.slots:
            if slot.baselineAction not in known:
                raise ValueError(f"slot {slot.id!r}: baselineAction is not an action id")
            unknown = [a for a in slot.excludedActions if a not in known]
            if unknown:
                raise ValueError(
                    f"slot {slot.id!r}: excludedActions names unknown ids {unknown[:5]}"
                )
            if slot.baselineAction in slot.excludedActions:
                raise ValueError(f"slot {slot.id!r}: its baselineAction is excluded")
        return self


class SlotResult(_Model):
    id: str
    rewardActionId: str | None  # None: every action went to earlier slots or is excluded


class MultiSlotRankResponse(_Model):
    slots: list[SlotResult]
    eventId: str


class SlotReward(_Model):
    slotId: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    value: float = Field(ge=-1.0, le=1.0)

    @field_validator("value", mode="before")
    @classmethod
    def _strict_number(cls, value: Any) -> Any:
        return _reward_value(value)


class MultiSlotRewardRequest(_Model):
    reward: list[SlotReward] = Field(min_length=1, max_length=MAX_ACTIONS)


def _first_duplicate(values: list[str]) -> str:
    return next(v for v, n in Counter(values).items() if n > 1)


class RankedAction(_Model):
    id: str
    probability: float


class RankResponse(_Model):
    ranking: list[RankedAction]
    eventId: str
    rewardActionId: str


class RewardRequest(_Model):
    value: float = Field(ge=-1.0, le=1.0)  # the bounds the validator enforces, for the schema

    @field_validator("value", mode="before")
    @classmethod
    def _strict_number(cls, value: Any) -> Any:
        return _reward_value(value)


def _reward_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("value must be a number")
    if not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise ValueError("value must be between -1 and 1")
    return value


class ServiceConfiguration(_Model):
    rewardWaitTime: str
    defaultReward: float = Field(ge=-1.0, le=1.0)
    rewardAggregation: Literal["earliest", "sum", "average"]
    explorationPercentage: float = Field(ge=0.0, le=1.0)
    modelExportFrequency: str
    logRetentionDays: int = Field(ge=-1)
    learningMode: Literal["Online", "Apprentice", "LoggingOnly"] = "Online"
    modelRetrainDays: int = Field(default=0, ge=0)  # stored and returned; not acted on
    lastConfigurationEditDate: str | None = None
    # Automatic policy optimization (Personalizer's): stored and returned
    isAutoOptimizationEnabled: bool = False
    autoOptimizationFrequency: str | None = None
    autoOptimizationStartDate: str | None = None

    @field_validator("rewardWaitTime")
    @classmethod
    def _wait(cls, value: str) -> str:
        # Personalizer allows 5 s to 2 days; we allow 1 s so local demos and tests run quickly.
        return _bounded_duration(value, "rewardWaitTime", timedelta(seconds=1), timedelta(days=2))

    @field_validator("modelExportFrequency")
    @classmethod
    def _export(cls, value: str) -> str:
        return _bounded_duration(
            value, "modelExportFrequency", timedelta(seconds=1), timedelta(days=1)
        )

    @field_validator("autoOptimizationFrequency")
    @classmethod
    def _auto_every(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return _bounded_duration(
            value, "autoOptimizationFrequency", timedelta(minutes=1), timedelta(days=90)
        )

    @field_validator("autoOptimizationStartDate")
    @classmethod
    def _auto_start(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)  # Python 3.11 reads `Z` too
            except ValueError as exc:
                raise ValueError("autoOptimizationStartDate must be an ISO-8601 date") from exc
        return value

    @field_validator("logRetentionDays")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value == 0:
            raise ValueError("logRetentionDays must be -1 (forever) or at least 1")
        return value

    @property
    def reward_wait(self) -> timedelta:
        return parse_duration(self.rewardWaitTime)

    @property
    def export_every(self) -> timedelta:
        return parse_duration(self.modelExportFrequency)


def _bounded_duration(value: str, name: str, low: timedelta, high: timedelta) -> str:
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an ISO-8601 duration such as PT10M") from exc
    if not low <= duration <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


class PolicyContract(_Model):
    name: str = Field(min_length=1, max_length=256)
    arguments: str = Field(min_length=1, max_length=1024)


class ErrorDetail(BaseModel):
    code: str
    message: str
    target: str | None = None
    details: list[dict[str, Any]] = []


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: Personalizer's error shape (code also in `x-ms-error-code`)."""

    error: ErrorDetail
