"""Tom/Anna through the whole loop over HTTP: rank -> decisions hub -> join (Cosmos) -> timer learn
-> model blob -> hot-swap in the serving worker, with rewards posted only on a click.

One fresh local host (`python -m devhost --workers 1`, all triggers on) and fresh resources per
policy. Decisions go out in steady ticks of 0.25 s, at 40 a second (a pace the loop sustains
here) and at 100 a second (25 a tick, faster than the join keeps up with on this machine). The
event ids are chosen by the client (`bench-s<seed>-<n>`), so the ranker's event-id-seeded
sampling is reproducible and the in-process reference below draws with the very same numbers:
the same visits, the same draws, only the learning differs (after every step in-process; through
the loop, with rewardWaitTime, the learner's timer, modelExportFrequency and the model poll in
between).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from tqdm import tqdm

from bench import common
from bench.policies import CURVE_EVERY, simulate
from shared import wiring
from simulator.worlds import TomAnna

API = "/personalizer/v1.0"
DECISIONS = 5_000
CHECKPOINTS = (1_000, 5_000)
SEED = 1
# decisions a second: one the loop sustains on this machine, and the brief's 25 every 0.25 s.
# A rate of 0 (`--rate max`) sends as fast as one client goes: rank, then reward, then the next.
RATES = (40, 100)
FULL_SPEED = 0


def rate_label(rate: int) -> str:
    return "full speed" if rate == FULL_SPEED else f"{rate}/s"


TARGET_CTR = 0.90  # issue 7: cumulative CTR at 5,000 decisions at 40/s


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
    "squarecb": LoopPolicy("squarecb", "squarecb", "--cb_explore_adf --squarecb -q ::"),
    "synthcover": LoopPolicy("synthcover", "synthcover", "--cb_explore_adf --synthcover -q ::"),
    "synthcover-eps": LoopPolicy(
        "synthcover-eps",
        "synthcover, 2% epsilon floor",
        "--cb_explore_adf --synthcover --epsilon 0.02 -q ::",
    ),
    "softmax-5": LoopPolicy(
        "softmax-5", "softmax lambda 5", "--cb_explore_adf --softmax --lambda 5 -q ::"
    ),
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

        self._store = wiring.current().model_store  # built under the run's env
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
                        "lag_p50": meta.lag_p50,
                        "lag_p99": meta.lag_p99,
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
            if not per_tick:
                bar.update(1)
            elif (n - 1) % per_tick == 0:
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


def in_process(
    arguments: str, epsilon_greedy: bool, exploration: float, prefix: str, seed: int, decisions: int
) -> dict[str, Any]:
    """The same visits and the same event-id draws, learning after every step."""
    from shared import sampling

    def sampler(probabilities: list[float], step: int) -> int:
        shown = (
            sampling.epsilon_greedy(probabilities, exploration) if epsilon_greedy else probabilities
        )
        return sampling.sample_index(shown, f"{prefix}-{step:06d}")

    out = simulate(arguments, seed, steps=decisions, sampler=sampler)
    return {
        "at": {str(k): v for k, v in out["at"].items() if k in CHECKPOINTS},
        "curve": out["curve"],
    }


_LEARNED = re.compile(r"learned (\d+) events \(\d+ logging-only\) into model v(\d+) in ([\d.]+)s")


def learning_lag(timeline: list[dict[str, Any]]) -> dict[str, float] | None:
    """Reward -> model-save lag as the learner measured it (model metadata): the median of the
    models' p50s and the worst p99, over the models that learned something."""
    learned = [t for t in timeline if t.get("lag_p99")]
    if not learned:
        return None
    p50s = sorted(t["lag_p50"] for t in learned)
    return {
        "p50": round(p50s[len(p50s) // 2], 2),
        "p99": round(max(t["lag_p99"] for t in learned), 2),
    }


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


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*decisions: (\d+) captured", re.M)


def join_progress(log: str, decisions: int) -> dict[str, Any]:
    """From the host log: how many decisions the join had written, and how fast it went."""
    import datetime as dt

    points = [
        (dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp(), int(n))
        for stamp, n in _STAMP.findall(log)
    ]
    if not points:
        return {}
    total = sum(n for _, n in points)
    span = points[-1][0] - points[0][0]
    return {
        "decisions_joined": total,
        "first_to_last_s": round(span, 1),
        "decisions_per_s": round(total / span, 1) if span else None,
    }


def loop_settings() -> dict[str, str]:
    """The local loop's timing as this run's host read it (local.settings.json, learner grace)."""
    values = common.local_settings()
    out = {k: values.get(k, "") for k in ("LEARN_SCHEDULE", "MODEL_POLL_SECONDS")}
    try:
        from shared import learner

        out["GRACE_SECONDS"] = str(learner.GRACE_SECONDS)
    except Exception:  # the constant may move; the rest still tells the story
        pass
    return out


def run_policy(
    policy: LoopPolicy,
    decisions: int = DECISIONS,
    per_tick: int = 25,
    tick: float = 0.25,
    seed: int = SEED,
    drain_timeout: float = 60.0,
) -> dict[str, Any]:
    from shared.contracts import PolicyContract
    from shared.policy import from_contract

    # The same ids for every run of a seed (each run has its own resources): every policy and rate
    # sees the same visits and the same draws, and so does its in-process reference.
    prefix = f"bench-s{seed}"
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
            groups = {
                "devhost host (join + learn triggers)": [host.process.pid],
                "HTTP worker(s)": common.descendants(host.process.pid),
                "Cosmos emulator": common.pids_matching("cosmosdb-server"),
                "Azurite": common.pids_matching("azurite"),
            }
            cpu_before = common.cpu_snapshot(groups)
            loop = drive(host, prefix, decisions, per_tick, tick, seed, sent, policy.label)
            cpu = common.cpu_used(cpu_before, common.cpu_snapshot(groups), loop["seconds"])
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
        log = host.log_tail(1_000_000)
        learns = learner_runs(log)
        joined = join_progress(log, decisions)
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
        "seed": seed,
        "loop_settings": loop_settings(),
        "date": common.machine()["date"],
        "policy": active,
        "service": {
            k: service.get(k)
            for k in (
                "rewardWaitTime",
                "modelExportFrequency",
                "defaultReward",
                "explorationPercentage",
                "learningMode",
            )
        },
        "decisions": decisions,
        "pace": {"per_tick": per_tick, "tick_s": tick, "rate": round(per_tick / tick)},
        "lag_s": learning_lag(watch.timeline),
        "loop": loop,
        "model_at": {str(k): watch.at(k) for k in CHECKPOINTS},
        "model_at_end_of_decisions": at_end,
        "model_after_drain": drained,
        "drain_seconds": round(drain_seconds, 1),
        "timeline": watch.timeline,
        "learner_runs": learns,
        "joined": joined,
        "cpu_cores": cpu,
        "publisher": health.get("publisher"),
        "in_process": reference,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }


def run(
    keys: list[str] | None = None,
    decisions: int = DECISIONS,
    rates: tuple[int, ...] = RATES,
    tick: float = 0.25,
    seeds: tuple[int, ...] = (SEED,),
) -> dict[str, Any]:
    """Every policy at every rate (decisions a second, sent `rate * tick` at a time), per seed."""
    from shared.policy import DEFAULT_POLICY

    chosen = list(POLICIES)
    for key in keys or []:
        extra = EXTRA.get(key)
        # skip an extra that is the service's default policy already
        if extra and extra not in chosen and extra.arguments != DEFAULT_POLICY.arguments:
            chosen.append(extra)
    plan = [(rate, seed, policy) for rate in rates for seed in seeds for policy in chosen]
    runs = []
    for rate, seed, policy in tqdm(plan, desc="learning", unit="run"):
        per_tick = max(1, round(rate * tick)) if rate != FULL_SPEED else 0
        runs.append(run_policy(policy, decisions, per_tick, tick, seed))
    return {
        "decisions": decisions,
        "seeds": sorted(seeds),
        "rates": list(rates),
        "curve_every": CURVE_EVERY,
        "target_ctr": TARGET_CTR,
        "runs": runs,
    }


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Add `new`'s runs to `old`'s; a run of the same rate, policy and seed replaces the old one."""

    def key(r: dict[str, Any]) -> tuple[int, str, int]:
        return (r["pace"]["rate"], r["policy"]["arguments"], r.get("seed", SEED))

    if old.get("decisions") != new["decisions"]:
        return new
    runs = {key(r): r for r in old["runs"]}
    runs.update({key(r): r for r in new["runs"]})
    merged = dict(new)
    merged["runs"] = [runs[k] for k in sorted(runs)]
    merged["seeds"] = sorted({k[2] for k in runs})
    merged["rates"] = sorted({k[0] for k in runs})
    merged["commands"] = [*old.get("commands", [old.get("command", "")]), new.get("command", "")]
    merged["machine_first"] = old.get("machine_first", old.get("machine"))
    return merged


def groups(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs grouped by (rate, VW arguments), in table order, with means over their seeds. (Grouped
    by arguments, not by name: "default policy" is whatever the service's default was then.)"""
    out: dict[tuple[int, str], dict[str, Any]] = {}
    # the default policy first, then the order the runs were planned in (epsilon 0.2, extras)
    rank = {"default": 0, "epsilon-0.2": 1}
    planned = sorted(result["runs"], key=lambda r: rank.get(r["key"], 2))
    order = list(dict.fromkeys(r["policy"]["arguments"] for r in planned))
    for r in result["runs"]:
        args = r["policy"]["arguments"]
        g = out.setdefault(
            (r["pace"]["rate"], args),
            {"rate": r["pace"]["rate"], "key": args, "label": r["label"], "runs": []},
        )
        if r["key"] == "default":
            g["label"] = r["label"]  # "default policy" wins as the group's name
        g["policy"] = r["policy"]
        g["runs"].append(r)
    for g in out.values():
        runs = g["runs"]
        g["seeds"] = [r.get("seed", SEED) for r in runs]
        g["loop_5000"] = [r["loop"]["at"].get("5000") for r in runs]
        g["ref_5000"] = [r["in_process"]["at"].get("5000") for r in runs]
        g["loop_curve"] = _mean_curves([r["loop"]["curve"] for r in runs])
        g["ref_curve"] = _mean_curves([r["in_process"]["curve"] for r in runs])
    return sorted(out.values(), key=lambda g: (g["rate"], order.index(g["key"])))


def _mean_curves(curves: list[list[float]]) -> list[float]:
    length = min(len(c) for c in curves)
    return [sum(c[i] for c in curves) / len(curves) for i in range(length)]


def plot(result: dict[str, Any], policies_result: dict[str, Any] | None, path: Any) -> None:
    """One panel per rate: cumulative CTR vs decisions, through the loop (solid) and in-process with
    the same draws (dashed), per policy; dotted: the policies benchmark's mean over its seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    every = result["curve_every"]
    rates = sorted({r["pace"]["rate"] for r in result["runs"]})
    fig, axes = plt.subplots(
        1, len(rates), figsize=(6.5 * len(rates), 4.8), dpi=110, sharey=True, squeeze=False
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    arguments = list(dict.fromkeys(r["policy"]["arguments"] for r in result["runs"]))
    seeds = result.get("seeds") or [result.get("seed", SEED)]
    for ax, rate in zip(axes[0], rates, strict=True):
        for g in (g for g in groups(result) if g["rate"] == rate):
            args = g["policy"]["arguments"]
            color = colors[arguments.index(args) % len(colors)]
            name = args.replace("--cb_explore_adf ", "")
            n = f", mean of {len(g['runs'])} seeds" if len(g["runs"]) > 1 else ""
            loop = g["loop_curve"]
            ax.plot([every * (j + 1) for j in range(len(loop))], loop, color=color, lw=2,
                    label=f"{name}: through the loop{n}")  # fmt: skip
            ref = g["ref_curve"]
            ax.plot([every * (j + 1) for j in range(len(ref))], ref, color=color, lw=1.2, ls="--",
                    label=f"{name}: in-process, same draws{n}")  # fmt: skip
            match = [
                p for p in (policies_result or {}).get("policies", []) if p["arguments"] == args
            ]
            if match and policies_result:
                pe = policies_result["curve_every"]
                curve = match[0]["curve_mean"]
                ax.plot([pe * (j + 1) for j in range(len(curve))], curve, color=color, lw=1, ls=":",
                        label=f"{name}: in-process, RNG draws, mean of "
                        f"{len(policies_result['seeds'])} seeds")  # fmt: skip
        ax.axhline(result["target_ctr"], color="grey", lw=0.8, ls="-.")
        ax.text(60, result["target_ctr"] + 0.01, f"target {result['target_ctr']:.2f} at 5,000",
                color="grey", fontsize=8)  # fmt: skip
        ax.axhline(1 / 7, color="grey", lw=0.8, ls=":")
        ax.text(60, 1 / 7 + 0.01, "uniform 1/7", color="grey", fontsize=8)
        ax.set_xlabel("decisions")
        ax.set_ylim(0, 1)
        ax.set_xlim(0, result["decisions"])
        ax.set_title(f"{rate} decisions/s through the loop")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="lower right")
    axes[0][0].set_ylabel("cumulative CTR")
    fig.suptitle(
        "Tom/Anna (scenario 1): the real loop over HTTP vs learning after every step"
        f" (world seeds {', '.join(map(str, seeds))})"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
