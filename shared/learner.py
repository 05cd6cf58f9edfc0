"""The learning run (timer, singleton): the event log's next windows -> join in memory -> VW learn
-> model blob (with its watermark) -> DSJSON archive. No database on the way.

Exactly once per decision, even when hubs redeliver or the host dies halfway:
1. The stored model (version V) carries a watermark W: every decision window before W is learned.
2. A run takes the decision windows in [W, W') with W' = now - rewardWaitTime - grace (aligned to
   the window width), the reward windows that can hold their rewards, [W, W' + wait + grace), and
   the deferred decisions still waiting for activation (`pending`, a blob the model names). It
   joins them in memory (shared/join.py: dedup by id, so redelivered batches count once).
3. It learns the ready events in time order and saves version V+1 with watermark W', guarded by
   the model ETag. That save is the commit: a run that dies before it changed nothing (the next
   run takes the same windows); a run that loses the race to another trainer saves nothing.
4. After the save it writes the joined events to the archive; a run that finds the current
   version's archive missing (a crash after the save) recomputes it from the same windows.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from shared import features
from shared.archive import JoinedArchive, joined_path
from shared.capture import EventLog
from shared.config_store import ConfigStore
from shared.contracts import ServiceConfiguration
from shared.dsjson import joined_line, vw_lines
from shared.events.decision import DecisionEvent
from shared.join import Joined, JoinResult, Pending, early, join
from shared.model_store import ModelConflict, ModelMeta, ModelStore
from shared.vw_model import VWModel

log = logging.getLogger(__name__)

# At most this much of the decision log per run (a learner that was off catches up run by run).
MAX_SPAN_SECONDS = 3600.0
# With nothing new, a run saves nothing (no new model version) until its watermark lags this much;
# then it saves once to move the watermark on, so idle runs list only a few minute folders.
IDLE_SAVE_SECONDS = 300.0
# A timer tick may fire a little before the previous run's `updated_at + modelExportFrequency`
# (ticks jitter by milliseconds); counting it not due would add a whole schedule period of
# learning lag. Early by at most this much (or a tenth of the frequency, if smaller) is due.
DUE_TOLERANCE_SECONDS = 0.5


@dataclass
class LearnReport:
    status: str  # learned | not-due | nothing-to-learn | conflict
    version: int = 0
    decisions: int = 0  # decisions read this run (after dedup)
    learned: int = 0
    skipped_logging_only: int = 0
    unknown_featurization: int = 0
    pending: int = 0  # deferred decisions waiting for activation after this run
    early: int = 0  # learned before their reward window closed (`earliest`: the reward is in)
    expired: int = 0
    late: int = 0  # events that arrived after their window was learned (counted, kept, not learned)
    watermark: float = 0.0
    lag: dict[str, float] = field(default_factory=dict)
    archive_path: str = ""
    repaired_archive: bool = False
    seconds: float = 0.0


def training_example(
    decision: DecisionEvent, reward: float, lines: tuple[str, list[str]]
) -> list[str]:
    """VW text lines for a decision, labelled on the served action (cost = -reward)."""
    context, actions = lines
    return features.examples(
        context, actions, decision.chosen_index, -reward, decision.chosen_probability
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pending_path(version: int, run_id: str) -> str:
    return f"state/pending-v{version:08d}-{run_id}.jsonl"


class Learner:
    def __init__(
        self,
        models: ModelStore,
        configs: ConfigStore,
        archive: JoinedArchive,
        events: EventLog,
        grace_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._models = models
        self._configs = configs
        self._archive = archive
        self._events = events
        self._grace = grace_seconds
        self._clock = clock

    # --- the run -------------------------------------------------------------------------------
    def run(self, force: bool = False) -> LearnReport:
        started = time.perf_counter()
        now = self._clock()
        snapshot = self._configs.snapshot()
        service = snapshot.service
        head = self._models.head()
        meta = head[1] if head else None
        report = LearnReport(status="learned", version=meta.version if meta else 0)
        if meta is not None:
            report.watermark = meta.watermark
            report.repaired_archive = self._repair_archive(meta, service)
            every = service.export_every.total_seconds()
            due = meta.updated_at + every - min(DUE_TOLERANCE_SECONDS, every / 10)
            if not force and now < due:
                report.status = "not-due"
                return report

        width = self._events.window
        wait = service.reward_wait.total_seconds()
        start = meta.watermark if meta and meta.watermark else self._first_window()
        if start is None:
            report.status = "nothing-to-learn"
            return report
        end = float(int((now - wait - self._grace) // width) * width)
        end = min(end, start + MAX_SPAN_SECONDS)
        # Captured completely up to here: decisions of later windows may already have their
        # (earliest) reward, so they need not wait for their whole reward window.
        horizon = min(float(int((now - self._grace) // width) * width), end + MAX_SPAN_SECONDS)
        late_from = meta.late_scanned_to if meta and meta.late_scanned_to else now - self._grace
        late_to = now - self._grace
        late = (
            sum(self._events.late_events(late_from, late_to).values()) if late_from < late_to else 0
        )
        report.late = late
        if end <= start and horizon <= start and not late:
            report.status = "nothing-to-learn"
            return report
        end = max(end, start)
        horizon = max(horizon, end)

        pending, learned_early = self._load_state(meta.pending_path if meta else "")
        result, early_ready = self._join(
            start, end, horizon, wait, pending, learned_early, service, now
        )
        report.decisions = result.decisions
        report.pending, report.expired = len(result.pending), result.expired
        report.early = len(early_ready)
        # ids learned early stay remembered until their window is behind the watermark
        learned_early |= {j.event_id: j.time for j in early_ready}
        learned_early = {k: t for k, t in learned_early.items() if t >= end}
        idle = (
            not result.ready
            and not early_ready
            and not late
            and not result.expired
            and report.decisions <= 0
        )
        if idle and end - start < IDLE_SAVE_SECONDS and _same(pending, result.pending):
            report.status = "nothing-to-learn"  # nothing new: keep the watermark, no save
            return report

        stored = self._models.load() if head else None
        policy = snapshot.policy
        continue_model = stored is not None and stored.meta.policy == policy.arguments
        model = (
            VWModel.from_bytes(stored.data, policy.arguments)
            if continue_model and stored is not None
            else VWModel.fresh(policy.arguments)
        )
        lines, reward_times = self._learn(model, result.ready + early_ready, report)
        version = (meta.version if meta else 0) + 1
        run_id = uuid.uuid4().hex[:12]
        state = pending_path(version, run_id) if result.pending or learned_early else ""
        if state:  # the learner's state, written before the model that names it
            self._models.write_state(state, _state_body(result.pending, learned_early))
        saved_at = self._clock()
        lags = [max(0.0, saved_at - t) for t in reward_times]
        report.lag = {
            "p50": _percentile(lags, 0.5),
            "p99": _percentile(lags, 0.99),
            "max": max(lags, default=0.0),
        }
        previous = stored.meta if continue_model and stored else None
        new_meta = ModelMeta(
            version=version,
            run_id=run_id,
            policy=policy.arguments,
            events_learned=(previous.events_learned if previous else 0) + report.learned,
            updated_at=now,
            archive_path=joined_path(now, version, run_id),
            watermark=end,
            prev_watermark=start,
            reward_horizon=self._reward_horizon(end, horizon, wait),
            early_horizon=horizon,
            wait_seconds=wait,
            pending_path=state,
            prev_pending=meta.pending_path if meta else "",
            pending=len(result.pending),
            late_scanned_to=max(late_to, late_from),
            late_events=(previous.late_events if previous else 0) + late,
            unknown_featurization=(previous.unknown_featurization if previous else 0)
            + report.unknown_featurization,
            learned_last=report.learned,
            lag_p50=report.lag["p50"],
            lag_p99=report.lag["p99"],
            lag_max=report.lag["max"],
            created_at=(previous.created_at if previous and previous.created_at else now),
        )
        try:
            self._models.save(model.to_bytes(), new_meta, head[0] if head else None)
        except ModelConflict:
            if state:
                self._models.delete_state(state)
            report.status = "conflict"
            return report
        finally:
            model.close()
        self._archive.write(new_meta.archive_path, lines)
        report.version, report.watermark = version, end
        report.archive_path = new_meta.archive_path
        report.seconds = time.perf_counter() - started
        log.info(
            "learned %d events (%d logging-only, %d unknown featurization, %d pending, %d late)"
            " into model v%d up to %.0f in %.2fs; reward->model lag p50 %.1fs p99 %.1fs",
            report.learned,
            report.skipped_logging_only,
            report.unknown_featurization,
            report.pending,
            report.late,
            version,
            end,
            report.seconds,
            report.lag["p50"],
            report.lag["p99"],
        )
        return report

    # --- parts ---------------------------------------------------------------------------------
    def _first_window(self) -> float | None:
        first = self._events.earliest("decisions")
        return None if first is None else float(first)

    def _load_state(self, path: str) -> tuple[dict[str, Pending], dict[str, float]]:
        """The pending deferred decisions, and the ids learned early with their decision time."""
        pending: dict[str, Pending] = {}
        learned_early: dict[str, float] = {}
        if not path:
            return pending, learned_early
        for line in self._models.read_state(path).splitlines():
            if not line:
                continue
            wire = orjson.loads(line)
            if "e" in wire:
                learned_early[str(wire["e"])] = float(wire["t"])
            else:
                entry = Pending.from_wire(wire)
                pending[str(entry.decision["EventId"])] = entry
        return pending, learned_early

    def _reward_horizon(self, end: float, horizon: float, wait: float) -> float:
        # the reward windows a run reads: those that can hold the rewards of the closed windows,
        # and the window after the capture horizon (a reward stamped before it, enqueued after)
        return max(end + wait + self._grace, horizon + self._events.window)

    def _join(
        self,
        start: float,
        end: float,
        horizon: float,
        wait: float,
        pending: dict[str, Pending],
        learned_early: dict[str, float],
        service: ServiceConfiguration,
        now: float,
    ) -> tuple[JoinResult, list[Joined]]:
        decisions = self._events.read("decisions", start, end)
        observations = self._events.read("rewards", start, self._reward_horizon(end, horizon, wait))
        result = join(decisions, observations, pending, service, wait, end, now)
        result.ready = [j for j in result.ready if j.event_id not in learned_early]
        opened = self._events.read("decisions", end, horizon) if horizon > end else []
        return result, early(opened, observations, learned_early, service, wait, horizon)

    def _learn(
        self, model: VWModel, ready: list[Joined], report: LearnReport
    ) -> tuple[list[dict[str, object]], list[float]]:
        lines: list[dict[str, object]] = []
        reward_times: list[float] = []
        for joined in ready:
            decision = DecisionEvent.from_wire(joined.doc["decision"])
            try:
                vw = vw_lines(decision)
            except ValueError:
                report.unknown_featurization += 1  # counted; never learned with other features
                continue
            if not decision.learnable:
                report.skipped_logging_only += 1
            else:
                model.learn(training_example(decision, joined.reward, vw))
                report.learned += 1
                window_end = float(joined.doc["matureAt"])
                reward_times += [
                    float(r["t"]) for r in joined.doc["rewards"].values() if r["t"] <= window_end
                ]
            lines.append(
                joined_line(joined.doc, joined.reward, skip_learn=not decision.learnable, lines=vw)
            )
        return lines, reward_times

    def _repair_archive(self, meta: ModelMeta, config: ServiceConfiguration) -> bool:
        """A crash after the save left the current version without its archive: recompute the
        run's join from the same windows and pending state (deterministic) and write it."""
        if not meta.archive_path or self._archive.exists(meta.archive_path):
            return False
        pending, learned_early = self._load_state(meta.prev_pending)
        decisions = self._events.read("decisions", meta.prev_watermark, meta.watermark)
        observations = self._events.read("rewards", meta.prev_watermark, meta.reward_horizon)
        result = join(
            decisions,
            observations,
            pending,
            config,
            meta.wait_seconds,
            meta.watermark,
            meta.updated_at,
        )
        ready = [j for j in result.ready if j.event_id not in learned_early]
        if meta.early_horizon > meta.watermark:
            opened = self._events.read("decisions", meta.watermark, meta.early_horizon)
            ready += early(
                opened, observations, learned_early, config, meta.wait_seconds, meta.early_horizon
            )
        lines = []
        for joined in ready:
            decision = DecisionEvent.from_wire(joined.doc["decision"])
            if decision.featurization != features.VERSION:
                continue
            lines.append(joined_line(joined.doc, joined.reward, skip_learn=not decision.learnable))
        self._archive.write(meta.archive_path, lines)
        log.warning("rebuilt missing archive %s (%d events)", meta.archive_path, len(lines))
        return True


def _state_body(pending: dict[str, Pending], learned_early: dict[str, float]) -> bytes:
    lines = [orjson.dumps(p.to_wire()) for p in pending.values()]
    lines += [orjson.dumps({"e": k, "t": t}) for k, t in learned_early.items()]
    return b"".join(line + b"\n" for line in lines)


def _same(a: dict[str, Pending], b: dict[str, Pending]) -> bool:
    return a.keys() == b.keys() and all(a[k].rewards == b[k].rewards for k in a)
