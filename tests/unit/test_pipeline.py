"""The learning pipeline's logic without emulators: the pure join, and capture + learner over the
in-memory blob container (tests/fakes/blob.py). The same behaviours run against real Azurite in
tests/integration/test_learning_loop.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from shared.archive import JoinedArchive, joined_path
from shared.capture import Capture, EventLog, window_path, window_start
from shared.config_store import ConfigSnapshot
from shared.contracts import ServiceConfiguration
from shared.events.codec import encode
from shared.events.decision import DecisionEvent
from shared.events.observation import ActivationEvent, RewardEvent
from shared.join import Pending, join
from shared.learner import Learner
from shared.model_store import ModelConflict, ModelStore
from shared.poison import PoisonParking
from shared.policy import DEFAULT_POLICY, from_contract
from tests.fakes.blob import FakeContainer

T0 = 1_800_000_000.0


def config(**changes: object) -> ServiceConfiguration:
    base = {
        "rewardWaitTime": "PT10S",
        "defaultReward": 0.0,
        "rewardAggregation": "earliest",
        "explorationPercentage": 0.2,
        "modelExportFrequency": "PT1S",
        "logRetentionDays": 7,
    }
    return ServiceConfiguration.model_validate({**base, **changes})


def decision(
    event_id: str, t: float, deferred: bool = False, mode: str = "Online", fv: int = 1
) -> DecisionEvent:
    return DecisionEvent(
        event_id=event_id,
        timestamp=t,
        context=[{"user": {"name": "Tom"}}],
        action_ids=["a", "b"],
        action_features=[[{"kind": "a"}], [{"kind": "b"}]],
        ranking=[1, 0],
        probabilities=[0.9, 0.1],
        excluded=[],
        model_version="0",
        learning_mode=mode,
        deferred=deferred,
        featurization=fv,
    )


def reward(event_id: str, value: float, t: float, rid: str | None = None) -> RewardEvent:
    return RewardEvent(event_id, rid or f"r-{event_id}-{t}", value, t)


# --- the pure join -------------------------------------------------------------------------------


def test_join_dedups_and_applies_the_reward_window() -> None:
    d = decision("e1", T0).to_wire()
    rewards = [
        reward("e1", 0.5, T0 + 2, "r1").to_wire(),
        reward("e1", 0.5, T0 + 2, "r1").to_wire(),  # redelivered: counted once
        reward("e1", 1.0, T0 + 3, "r2").to_wire(),
        reward("e1", 1.0, T0 + 11, "late").to_wire(),  # after the 10 s wait: ignored
    ]
    for aggregation, expected in (("earliest", 0.5), ("sum", 1.5), ("average", 0.75)):
        result = join(
            [d, d, d], rewards, {}, config(rewardAggregation=aggregation), 10, T0 + 20, T0
        )
        assert result.decisions == 1 and result.duplicates == 2
        assert [j.reward for j in result.ready] == [expected]
    none = join([d], [], {}, config(defaultReward=-0.25), 10, T0 + 20, T0)
    assert none.ready[0].reward == -0.25


def test_deferred_decisions_wait_for_activation_and_expire() -> None:
    d = decision("e1", T0, deferred=True).to_wire()
    early = reward("e1", 1.0, T0 + 1, "r1").to_wire()
    first = join([d], [early], {}, config(), 10, T0 + 5, T0 + 5)
    assert first.ready == [] and set(first.pending) == {"e1"}
    assert first.pending["e1"].rewards == {"r1": {"v": 1.0, "t": T0 + 1}}  # carried along

    carried = {
        k: Pending.from_wire(orjson.loads(orjson.dumps(v.to_wire())))
        for k, v in first.pending.items()
    }
    activation = ActivationEvent("e1", T0 + 500).to_wire()
    later = reward("e1", 0.25, T0 + 505, "r2").to_wire()
    not_yet = join(
        [], [activation, later], carried, config(rewardAggregation="sum"), 10, T0 + 400, T0 + 400
    )
    assert not_yet.ready == [] and set(not_yet.pending) == {"e1"}  # activated after the cutoff
    ready = join(
        [], [activation, later], carried, config(rewardAggregation="sum"), 10, T0 + 600, T0 + 600
    )
    assert [(j.event_id, j.reward, j.doc["matureAt"]) for j in ready.ready] == [
        ("e1", 1.25, T0 + 510)
    ]

    expired = join([], [], carried, config(logRetentionDays=7), 10, T0 + 9 * 86400, T0 + 9 * 86400)
    assert expired.expired == 1 and expired.pending == {}


def test_join_is_order_free_and_deterministic() -> None:
    ds = [decision(f"e{i}", T0 + i).to_wire() for i in range(5)]
    rs = [reward(f"e{i}", 1.0, T0 + i + 1, f"r{i}").to_wire() for i in range(5)]
    a = join(ds, rs, {}, config(), 10, T0 + 20, T0)
    b = join(list(reversed(ds)) + ds, list(reversed(rs)), {}, config(), 10, T0 + 20, T0)
    assert [j.doc for j in a.ready] == [j.doc for j in b.ready]
    assert [j.event_id for j in a.ready] == [f"e{i}" for i in range(5)]


# --- capture + learner over the fake container ---------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class StubConfigs:
    service: ServiceConfiguration

    def snapshot(self) -> ConfigSnapshot:
        return ConfigSnapshot(self.service, from_contract(DEFAULT_POLICY))


@pytest.fixture
def pipe() -> dict[str, Any]:
    clock = Clock(T0)
    events, models, archive = FakeContainer(), FakeContainer(), FakeContainer()
    log = EventLog(events, 1)  # type: ignore[arg-type]
    store = ModelStore(models)  # type: ignore[arg-type]
    configs = StubConfigs(config(rewardWaitTime="PT3S"))
    capture = Capture(log, store, PoisonParking(archive), clock, watermark_seconds=0)  # type: ignore[arg-type]
    joined = JoinedArchive(archive)  # type: ignore[arg-type]
    learner = Learner(store, configs, joined, log, 2.0, clock)  # type: ignore[arg-type]
    return {
        "clock": clock,
        "events": events,
        "models": store,
        "archive": archive,
        "capture": capture,
        "learner": learner,
        "joined": joined,
        "configs": configs,
        "log": log,
    }


def batch(*events: Any) -> list[tuple[float | None, bytes]]:
    return [(None, encode(e)) for e in events]


def test_capture_writes_one_blob_per_window_and_redelivery_overwrites(pipe: dict[str, Any]) -> None:
    ds = [decision(f"e{i}", T0 + i * 0.4) for i in range(5)]  # windows T0, T0+1 (x2)
    for _ in range(3):
        report = pipe["capture"].consume("decisions", batch(*ds))
        assert report.events == 5 and len(report.blobs) == 2 and report.late == 0
    names = sorted(pipe["events"].blobs)
    assert len(names) == 2
    assert names[0].startswith(window_path("decisions", window_start(T0, 1), "")[:-7])
    assert pipe["events"].calls["upload"] == 6  # one write per (batch, window), nothing else


def test_capture_parks_undecodable_events_and_keeps_the_rest(pipe: dict[str, Any]) -> None:
    report = pipe["capture"].consume(
        "decisions",
        [(None, b"not json"), (None, encode(reward("x", 1, T0))), *batch(decision("e", T0))],
    )
    assert (report.events, report.parked) == (1, 2)
    assert sum(n.startswith("poison/") for n in pipe["archive"].blobs) == 2


def test_learner_learns_each_decision_once_and_counts_late_ones(pipe: dict[str, Any]) -> None:
    clock, capture, learner = pipe["clock"], pipe["capture"], pipe["learner"]
    ds = [decision(f"e{i}", T0 + i * 0.1) for i in range(30)]
    rs = [reward(f"e{i}", 1.0, T0 + i * 0.1 + 0.5) for i in range(0, 30, 2)]
    for _ in range(3):
        capture.consume("decisions", batch(*ds))
        capture.consume("rewards", batch(*rs))
    clock.now += 10
    report = learner.run(force=True)
    assert (report.status, report.learned, report.decisions) == ("learned", 30, 30)
    assert report.lag["p50"] > 0
    assert learner.run(force=True).status == "nothing-to-learn"
    late = capture.consume("decisions", batch(*ds[:4]))  # a decision batch after its window
    assert late.late == 4
    clock.now += 10
    again = learner.run(force=True)
    assert (again.learned, again.late) == (0, 4)
    meta = pipe["models"].head()[1]
    assert (meta.events_learned, meta.late_events) == (30, 4)


def test_unknown_featurization_and_logging_only_are_never_learned(pipe: dict[str, Any]) -> None:
    capture, learner = pipe["capture"], pipe["learner"]
    capture.consume(
        "decisions",
        batch(
            decision("new", T0, fv=99), decision("log", T0, mode="LoggingOnly"), decision("ok", T0)
        ),
    )
    pipe["clock"].now += 10
    report = learner.run(force=True)
    assert (report.learned, report.unknown_featurization, report.skipped_logging_only) == (1, 1, 1)
    lines = pipe["joined"].read(report.archive_path).splitlines()
    assert len(lines) == 2 and b'"_skipLearn":true' in lines[1] + lines[0]


def test_racing_trainer_loses_cleanly(
    pipe: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    capture, learner, models = pipe["capture"], pipe["learner"], pipe["models"]
    capture.consume(
        "decisions",
        batch(*(decision(f"e{i}", T0, deferred=True) for i in range(3)), decision("x", T0)),
    )
    pipe["clock"].now += 10
    rival = Learner(models, pipe["configs"], pipe["joined"], pipe["log"], 2.0, pipe["clock"])
    save = models.save

    def rival_first(*args: Any, **kwargs: Any) -> str:
        monkeypatch.setattr(models, "save", save)
        assert rival.run(force=True).learned == 1
        return save(*args, **kwargs)

    monkeypatch.setattr(models, "save", rival_first)
    assert learner.run(force=True).status == "conflict"
    meta = models.head()[1]
    assert (meta.version, meta.events_learned, meta.pending) == (1, 1, 3)
    states = [n for n in pipe["models"]._container.blobs if n.startswith("state/")]
    assert states == [meta.pending_path]  # the loser removed its own state
    with pytest.raises(ModelConflict):
        models.save(b"x", meta, '"stale"')


def test_a_tick_that_fires_a_few_milliseconds_early_is_due(pipe: dict[str, Any]) -> None:
    # The timer's ticks jitter: a run that comes up 40 ms before updated_at + frequency must not
    # wait a whole extra schedule period (it did: +1 s of learning lag at a 1 s schedule).
    pipe["configs"].service = config(rewardWaitTime="PT3S", modelExportFrequency="PT10S")
    capture, learner, clock = pipe["capture"], pipe["learner"], pipe["clock"]
    capture.consume("decisions", batch(decision("a", T0)))
    clock.now += 10
    assert learner.run().status == "learned"
    capture.consume("decisions", batch(decision("b", clock.now)))
    clock.now += 5
    assert learner.run().status == "not-due"
    clock.now += 4.96
    assert learner.run().status != "not-due"


def test_with_earliest_a_rewarded_decision_is_learned_before_its_window_closes_and_only_once(
    pipe: dict[str, Any],
) -> None:
    # rewardWaitTime 3 s, grace 2 s, window 1 s: the reward is in at T0+0.2, so the decision is
    # learned once its window is captured (T0+3), not at T0+6 when its reward window has closed.
    capture, learner, clock = pipe["capture"], pipe["learner"], pipe["clock"]
    capture.consume("decisions", batch(decision("hit", T0), decision("miss", T0 + 0.1)))
    capture.consume("rewards", batch(reward("hit", 1.0, T0 + 0.2)))
    clock.now = T0 + 3.5
    first = learner.run(force=True)
    assert (first.status, first.early, first.learned) == ("learned", 1, 1)
    capture.consume("decisions", batch(decision("hit", T0)))  # redelivered: still learned once
    clock.now = T0 + 10
    second = learner.run(force=True)
    assert (second.early, second.learned) == (0, 1)  # only "miss", with the default reward
    meta = pipe["models"].head()[1]
    assert meta.events_learned == 2
    lines = pipe["joined"].read(first.archive_path) + pipe["joined"].read(second.archive_path)
    events = [orjson.loads(line)["EventId"] for line in lines.splitlines()]
    assert sorted(events) == ["hit", "miss"]


def test_sum_aggregation_waits_for_the_whole_window(pipe: dict[str, Any]) -> None:
    pipe["configs"].service = config(rewardWaitTime="PT3S", rewardAggregation="sum")
    capture, learner, clock = pipe["capture"], pipe["learner"], pipe["clock"]
    capture.consume("decisions", batch(decision("hit", T0)))
    capture.consume("rewards", batch(reward("hit", 1.0, T0 + 0.2)))
    clock.now = T0 + 3.5
    assert learner.run(force=True).learned == 0  # a second reward could still add to it


def test_a_lost_archive_is_rebuilt_with_the_early_learned_events(pipe: dict[str, Any]) -> None:
    capture, learner, clock = pipe["capture"], pipe["learner"], pipe["clock"]
    capture.consume("decisions", batch(decision("a", T0), decision("b", T0 + 1.2)))
    capture.consume("rewards", batch(reward("b", 1.0, T0 + 1.3)))
    clock.now = T0 + 4.5  # "a" (no reward) still waits; "b" is learned early
    report = learner.run(force=True)
    assert report.early == 1
    written = pipe["joined"].read(report.archive_path)
    del pipe["archive"].blobs[report.archive_path]  # crashed after the save, before the archive
    clock.now += 1
    assert learner.run(force=True).repaired_archive
    assert pipe["joined"].read(report.archive_path) == written


def test_archive_ranges_list_by_hour_day_or_month_and_keep_only_the_hours_asked() -> None:
    """GET /stats/lift?hours=2160 listed each hour, 2,161 calls, over ten seconds (a fuzz find)."""
    archive = FakeContainer()
    joined = JoinedArchive(archive)  # type: ignore[arg-type]
    hour = 3600.0
    start = T0 - T0 % 86400 + 5 * hour  # 05:00 UTC of T0's day
    written = [joined_path(start + h * hour, 1, f"r{h}") for h in (-1, 0, 30, 24 * 40, 24 * 95)]
    for path in written:
        joined.write(path, [{"h": path}])

    def between(first: float, last: float) -> tuple[list[str], int]:
        before = archive.calls.get("list", 0)
        paths = joined.paths_between(
            datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)
        )
        return paths, archive.calls["list"] - before

    assert between(start, start + 30 * hour) == (written[1:3], 31)  # hour by hour
    assert between(start, start + 24 * 40 * hour) == (written[1:4], 41)  # day by day
    paths, calls = between(start, start + 24 * 95 * hour)  # month by month
    assert paths == written[1:] and calls <= 5
