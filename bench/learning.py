"""Tom/Anna through the whole loop over HTTP: rank -> decisions hub -> join (Cosmos) -> timer learn
-> model blob -> hot-swap in the serving worker, with rewards posted only on a click.

One fresh local host (`python -m devhost --workers 1`, all triggers on) and fresh resources per
policy. Decisions go out in steady ticks (default 25 every 0.25 s, 100 a second). The event ids are
chosen by the client (`<run>-<n>`), so the ranker's event-id-seeded sampling is reproducible and the
in-process reference below draws with the very same numbers: the same visits, the same draws, only
the learning differs (after every step in-process; through the loop, with rewardWaitTime, the
learner's timer, modelExportFrequency and the model poll in between).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from tqdm import tqdm

from bench import common
from bench.policies import CURVE_EVERY, simulate
from simulator.worlds import TomAnna

API = "/personalizer/v1.0"
DECISIONS = 5_000
CHECKPOINTS = (1_000, 5_000)
SEED = 1
TARGET_CTR = 0.88


@dataclass(frozen=True)
class LoopPolicy:
    key: str
    label: str
    arguments: str | None  # None: leave the service's default policy


POLICIES = (
    LoopPolicy("default", "default policy", None),
    LoopPolicy("epsilon-0.2", "epsilon 0.2", "--cb_explore_adf --epsilon 0.2 -q ::"),
)
EXTRA = {
    "synthcover": LoopPolicy("synthcover", "synthcover", "--cb_explore_adf --synthcover -q ::"),
    "softmax-5": LoopPolicy("softmax-5", "softmax lambda 5", "--cb_explore_adf --softmax --lambda 5 -q ::"),
}


@dataclass
class ModelWatch:
    """Polls the model blob's metadata (cheap HEAD) while the run goes on."""

    env: dict[str, str]
    sent: list[int]
    period: float = 0.5
    timeline: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        from shared.model_store import get_model_store

        self._store = get_model_store()  # built under the run's env
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        last = None
        while not self._stop.wait(self.period):
            try:
                head = self._store.head()
            except Exception:
                continue
            if head is None:
                continue
            meta = head[1]
            if (meta.version, meta.events_learned) != last:
                last = (meta.version, meta.events_learned)
                self.timeline.append(
                    {
                        "t": round(time.monotonic() - self._started, 2),
                        "decisions_sent": self.sent[0],
                        "version": meta.version,
                        "events_learned": meta.events_learned,
                    }
                )

    def latest(self) -> dict[str, Any] | None:
        return self.timeline[-1] if self.timeline else None

    def at(self, decisions: int) -> dict[str, Any] | None:
        """The newest model seen before decision number `decisions` was sent."""
        found = None
        for entry in self.timeline:
            if entry["decisions_sent"] < decisions:
                found = entry
        return found

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))]


def drive(
    host: common.Server,
    prefix: str,
    decisions: int,
    per_tick: int,
    tick: float,
    seed: int,
    sent: list[int],
    label: str,
) -> dict[str, Any]:
    world = TomAnna(seed=seed)
    session = requests.Session()
    rank_url = host.url(f"{API}/rank")
    clicks = 0.0
    rewards: list[float] = []
    curve: list[float] = []
    at: dict[str, float] = {}
    rank_ms: list[float] = []
    late_ticks = 0
    worst_lag = 0.0
    started = time.monotonic()
    next_tick = started
    with tqdm(total=decisions, desc=f"learning: {label}", unit="dec", leave=False) as bar:
        for n in range(1, decisions + 1):
            if (n - 1) % per_tick == 0:
                now = time.monotonic()
                if now < next_tick:
                    time.sleep(next_tick - now)
                else:
                    lag = now - next_tick
                    if lag > 0.01:
                        late_ticks += 1
                    worst_lag = max(worst_lag, lag)
                next_tick += tick
                bar.update(per_tick if n + per_tick - 1 <= decisions else decisions - n + 1)
            visit = world.visit()
            body = world.rank_request(visit, event_id=f"{prefix}-{n:06d}")
            t0 = time.perf_counter()
            resp = session.post(rank_url, json=body, timeout=30)
            rank_ms.append((time.perf_counter() - t0) * 1e3)
            if resp.status_code != 201:
                raise RuntimeError(f"rank answered {resp.status_code}: {resp.text[:300]}")
            ranked = resp.json()
            reward = world.reward(visit, ranked["rewardActionId"])
            if reward:  # like Personalizer clients: no call on a miss (default reward 0)
                url = host.url(f"{API}/events/{ranked['eventId']}/reward")
                answer = session.post(url, json={"value": reward}, timeout=30)
                if answer.status_code != 204:
                    raise RuntimeError(f"reward answered {answer.status_code}: {answer.text[:300]}")
            clicks += reward
            rewards.append(reward)
            sent[0] = n
            if n % CURVE_EVERY == 0:
                curve.append(clicks / n)
            if n in CHECKPOINTS:
                at[str(n)] = clicks / n
    elapsed = time.monotonic() - started
    session.close()
    return {
        "at": at,
        "curve": curve,
        "seconds": elapsed,
        "rate": decisions / elapsed,
        "late_ticks": late_ticks,
        "worst_tick_lag_s": worst_lag,
        "rank_ms_p50": _percentile(rank_ms, 50),
        "rank_ms_p99": _percentile(rank_ms, 99),
        "last_1000_ctr": sum(rewards[-1000:]) / len(rewards[-1000:]),
    }


def in_process(arguments: str, epsilon_greedy: bool, exploration: float, prefix: str, seed: int, decisions: int) -> dict[str, Any]:
    """The same visits and the same event-id draws, learning after every step."""
    from shared import sampling

    def sampler(probabilities: list[float], step: int) -> int:
        shown = sampling.epsilon_greedy(probabilities, exploration) if epsilon_greedy else probabilities
        return sampling.sample_index(shown, f"{prefix}-{step:06d}")

    out = simulate(arguments, seed, steps=decisions, sampler=sampler)
    return {"at": {str(k): v for k, v in out["at"].items() if k in CHECKPOINTS}, "curve": out["curve"]}


_LEARNED = re.compile(r"learned (\d+) events \(\d+ logging-only\) into model v(\d+) in ([\d.]+)s")


def learner_runs(log: str) -> dict[str, Any]:
    """The learner's own reports in the host log: how long each learning run took."""
    runs = [(int(n), int(v), float(t)) for n, v, t in _LEARNED.findall(log)]
    if not runs:
        return {"runs": 0}
    events = sum(n for n, _, _ in runs)
    seconds = sum(t for _, _, t in runs)
    return {
        "runs": len(runs),
        "events": events,
        "seconds_total": round(seconds, 2),
        "seconds_max": max(t for _, _, t in runs),
        "events_per_s": round(events / seconds, 1) if seconds else None,
    }


def run_policy(
    policy: LoopPolicy,
    decisions: int = DECISIONS,
    per_tick: int = 25,
    tick: float = 0.25,
    seed: int = SEED,
    drain_timeout: float = 60.0,
) -> dict[str, Any]:
    from shared.policy import from_contract
    from shared.contracts import PolicyContract

    prefix = f"bench-{policy.key}-{uuid.uuid4().hex[:6]}"
    with common.resources() as env, common.using_env(env):
        host = common.devhost(env, workers=1)
        try:
            host.wait_healthy()
            session = requests.Session()
            if policy.arguments:
                resp = session.put(
                    host.url(f"{API}/configurations/policy"),
                    json={"name": policy.key, "arguments": policy.arguments},
                    timeout=30,
                )
                resp.raise_for_status()
            active = session.get(host.url(f"{API}/configurations/policy"), timeout=30).json()
            service = session.get(host.url(f"{API}/configurations/service"), timeout=30).json()
            if policy.arguments:
                time.sleep(2.5)  # CONFIG_CACHE_SECONDS: the learner reads the stored policy too
            sent = [0]
            watch = ModelWatch(env, sent)
            watch.start()
            load_before = common.load_average()
            loop = drive(host, prefix, decisions, per_tick, tick, seed, sent, policy.label)
            at_end = watch.latest()
            drain_started = time.monotonic()
            while time.monotonic() - drain_started < drain_timeout:
                latest = watch.latest()
                if latest and latest["events_learned"] >= decisions:
                    break
                time.sleep(0.5)
            drained = watch.latest()
            drain_seconds = time.monotonic() - drain_started
            watch.stop()
            load_after = common.load_average()
            health = session.get(host.url("/health"), timeout=30).json()
        finally:
            host.stop()
        learns = learner_runs(host.log_tail(100_000))
    parsed = from_contract(PolicyContract(**active))
    reference = in_process(
        parsed.arguments,
        parsed.is_epsilon_greedy,
        float(service.get("explorationPercentage", 0.2)),
        prefix,
        seed,
        decisions,
    )
    return {
        "key": policy.key,
        "label": policy.label,
        "policy": active,
        "service": {k: service.get(k) for k in ("rewardWaitTime", "modelExportFrequency", "defaultReward", "explorationPercentage", "learningMode")},
        "decisions": decisions,
        "pace": {"per_tick": per_tick, "tick_s": tick},
        "loop": loop,
        "model_at": {str(k): watch.at(k) for k in CHECKPOINTS},
        "model_at_end_of_decisions": at_end,
        "model_after_drain": drained,
        "drain_seconds": round(drain_seconds, 1),
        "timeline": watch.timeline,
        "learner_runs": learns,
        "publisher": health.get("publisher"),
        "in_process": reference,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }


def run(
    keys: list[str] | None = None,
    decisions: int = DECISIONS,
    per_tick: int = 25,
    tick: float = 0.25,
    seed: int = SEED,
) -> dict[str, Any]:
    chosen = list(POLICIES)
    for key in keys or []:
        if key in EXTRA and EXTRA[key] not in chosen:
            chosen.append(EXTRA[key])
    runs = []
    for policy in tqdm(chosen, desc="learning", unit="policy"):
        runs.append(run_policy(policy, decisions, per_tick, tick, seed))
    return {
        "decisions": decisions,
        "seed": seed,
        "curve_every": CURVE_EVERY,
        "target_ctr": TARGET_CTR,
        "runs": runs,
    }


def plot(result: dict[str, Any], policies_result: dict[str, Any] | None, path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    every = result["curve_every"]
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, entry in enumerate(result["runs"]):
        color = colors[i % len(colors)]
        name = entry["policy"]["arguments"].replace("--cb_explore_adf ", "")
        xs = [every * (j + 1) for j in range(len(entry["loop"]["curve"]))]
        ax.plot(xs, entry["loop"]["curve"], color=color, lw=2, label=f"{name}: through the loop")
        ref = entry["in_process"]["curve"]
        ax.plot(
            [every * (j + 1) for j in range(len(ref))], ref, color=color, lw=1.2, ls="--",
            label=f"{name}: in-process, same draws",
        )  # fmt: skip
    if policies_result:
        for i, entry in enumerate(result["runs"]):
            args = entry["policy"]["arguments"]
            match = [p for p in policies_result["policies"] if p["arguments"] == args]
            if match:
                curve = match[0]["curve_mean"]
                pe = policies_result["curve_every"]
                ax.plot(
                    [pe * (j + 1) for j in range(len(curve))], curve,
                    color=colors[i % len(colors)], lw=1, ls=":",
                    label=f"{args.replace('--cb_explore_adf ', '')}: in-process, mean of "
                    f"{len(policies_result['seeds'])} seeds",
                )  # fmt: skip
    ax.axhline(result["target_ctr"], color="grey", lw=0.8, ls="-.")
    ax.text(60, result["target_ctr"] + 0.01, f"target {result['target_ctr']:.2f} at 5,000", color="grey", fontsize=8)
    ax.axhline(1 / 7, color="grey", lw=0.8, ls=":")
    ax.text(60, 1 / 7 + 0.01, "uniform 1/7", color="grey", fontsize=8)
    ax.set_xlabel("decisions")
    ax.set_ylabel("cumulative CTR")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, result["decisions"])
    ax.set_title("Tom/Anna (scenario 1): through the loop vs in-process")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)

