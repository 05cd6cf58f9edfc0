"""Candidate learning policies on VW's Tom/Anna problem, in-process, learning after every step.

The examples are built with the service's own shared.features from TomAnna.rank_request, so the
VW input is exactly what the ranker and the learner feed VW. At each step: predict, sample an action
from the returned probabilities with a seeded RNG, observe the click, learn with cost = -reward and
the logged probability of the chosen action.

With drift on (the default), each run goes on for 5,000 more steps after the preferences change
(VW tutorial scenario 2, then separately scenario 3) and reports the CTR over those 5,000 steps.
The first 5,000 steps of a drift run are the plain scenario-1 run (same seeds), so one pair of
10,000-step runs gives all three numbers.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from shared import features
from shared.sampling import with_floor
from simulator.worlds import SCENARIO_1, TomAnna

STEPS = 5_000
CHECKPOINTS = (500, 1_000, 5_000)
CURVE_EVERY = 50
SEEDS = tuple(range(1, 11))

# VW tutorial scenarios 2 and 3 (drift after 5,000 steps).
SCENARIO_2 = {
    ("Tom", "morning"): "politics",
    ("Tom", "afternoon"): "sports",
    ("Anna", "morning"): "sports",
    ("Anna", "afternoon"): "sports",
}
SCENARIO_3 = {
    ("Tom", "morning"): "politics",
    ("Tom", "afternoon"): "food",
    ("Anna", "morning"): "food",
    ("Anna", "afternoon"): "food",
}
DRIFTS = {"scenario 2": SCENARIO_2, "scenario 3": SCENARIO_3}


@dataclass(frozen=True)
class Candidate:
    key: str
    label: str
    arguments: str | None  # None: no learning, uniform choice
    floor: bool = False  # rank's probability floor (shared/sampling.py with_floor) applied


CANDIDATES = (
    Candidate("uniform", "no learning (uniform)", None),
    Candidate(
        "epsilon-0.2", "epsilon 0.2 (Personalizer's usual)", "--cb_explore_adf --epsilon 0.2 -q ::"
    ),
    Candidate("epsilon-0.05", "epsilon 0.05", "--cb_explore_adf --epsilon 0.05 -q ::"),
    Candidate("squarecb", "squarecb", "--cb_explore_adf --squarecb -q ::"),
    Candidate(
        "squarecb-UA", "squarecb, -q UA (tutorial crosses)", "--cb_explore_adf --squarecb -q UA"
    ),
    Candidate(
        "squarecb-mtr", "squarecb, --cb_type mtr", "--cb_explore_adf --squarecb --cb_type mtr -q ::"
    ),
    Candidate("softmax-10", "softmax lambda 10", "--cb_explore_adf --softmax --lambda 10 -q ::"),
    Candidate("softmax-5", "softmax lambda 5", "--cb_explore_adf --softmax --lambda 5 -q ::"),
    Candidate("synthcover", "synthcover", "--cb_explore_adf --synthcover -q ::"),
    # synthcover ends with probability 0 on every other action; a small floor keeps each action's
    # logged probability above zero (off-policy evaluation needs that) for a little CTR
    Candidate(
        "synthcover-eps",
        "synthcover, 2% epsilon floor",
        "--cb_explore_adf --synthcover --epsilon 0.02 -q ::",
    ),
    # What rank serves since every logged decision must support offline evaluation: the policy's
    # probabilities lifted to at least 2%/K each (shared/sampling.py FLOOR_MASS).
    Candidate(
        "synthcover-floor",
        "synthcover + rank's 2% floor",
        "--cb_explore_adf --synthcover -q ::",
        floor=True,
    ),
    Candidate(
        "squarecb-floor",
        "squarecb + rank's 2% floor",
        "--cb_explore_adf --squarecb -q ::",
        floor=True,
    ),
    Candidate(
        "personalizer-default",
        "Personalizer's default (epsilon 0.2, mtr)",
        "--cb_explore_adf --epsilon 0.2 --power_t 0 -l 0.001 --cb_type mtr -q ::",
    ),
)


def by_key(key: str) -> Candidate:
    for candidate in CANDIDATES:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def simulate(
    arguments: str | None,
    seed: int,
    steps: int = STEPS,
    drift: dict[tuple[str, str], str] | None = None,
    drift_at: int = STEPS,
    sampler: Any = None,
    floor: bool = False,
) -> dict[str, Any]:
    """One run. Returns cumulative CTR at the checkpoints, the cumulative curve every CURVE_EVERY
    steps (first `drift_at` steps) and, with `drift`, the CTR over the steps after the change.

    `sampler(probabilities, step) -> index` replaces the seeded RNG (the learning benchmark passes
    the ranker's own event-id sampling)."""
    import vowpalwabbit

    world = TomAnna(seed=seed, preferences=dict(SCENARIO_1))
    rng = random.Random(1_000_003 * seed + 17)
    workspace = vowpalwabbit.Workspace(f"{arguments} --quiet") if arguments else None
    actions = TomAnna.actions()
    action_lines = [features.action_line(a["features"])[0] for a in actions]
    uniform = [1.0 / len(actions)] * len(actions)
    clicks = 0.0
    after = 0.0
    at: dict[int, float] = {}
    curve: list[float] = []
    started = time.perf_counter()
    try:
        for step in range(1, steps + 1):
            if drift is not None and step == drift_at + 1:
                world.preferences = dict(drift)
            visit = world.visit()
            request = world.rank_request(visit)
            context, _ = features.context_line(request["contextFeatures"])
            if workspace is None:
                probabilities = uniform
            else:
                probabilities = list(workspace.predict(features.examples(context, action_lines)))
                if floor:
                    probabilities = with_floor(probabilities)
            total = sum(probabilities)
            if sampler is not None:
                chosen = sampler(probabilities, step)
            else:
                chosen = rng.choices(range(len(probabilities)), weights=probabilities)[0]
            reward = world.reward(visit, actions[chosen]["id"])
            if step <= drift_at:
                clicks += reward
            else:
                after += reward
            if workspace is not None:
                workspace.learn(
                    features.examples(
                        context, action_lines, chosen, -reward, probabilities[chosen] / total
                    )
                )
            if step in CHECKPOINTS:
                at[step] = clicks / step
            if step % CURVE_EVERY == 0 and step <= drift_at:
                curve.append(clicks / step)
    finally:
        if workspace is not None:
            workspace.finish()
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"at": at, "curve": curve, "us_per_step": seconds / steps * 1e6}
    if drift is not None:
        result["after_drift"] = after / max(1, steps - drift_at)
    return result


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def run(
    seeds: tuple[int, ...] = SEEDS,
    keys: list[str] | None = None,
    drift: bool = True,
) -> dict[str, Any]:
    candidates = [c for c in CANDIDATES if keys is None or c.key in keys]
    plan = [
        (c, s, name) for c in candidates for s in seeds for name in (DRIFTS if drift else [None])
    ]
    per_run: dict[str, dict[int, dict[str, Any]]] = {}
    with tqdm(plan, desc="policies", unit="run") as bar:
        for candidate, seed, drift_name in bar:
            bar.set_postfix_str(f"{candidate.key} seed {seed} {drift_name or ''}".strip())
            if drift_name is None:
                out = simulate(candidate.arguments, seed, floor=candidate.floor)
            else:
                out = simulate(
                    candidate.arguments,
                    seed,
                    steps=2 * STEPS,
                    drift=DRIFTS[drift_name],
                    drift_at=STEPS,
                    floor=candidate.floor,
                )
            runs = per_run.setdefault(candidate.key, {})
            entry = runs.setdefault(seed, {})
            # the first 5,000 steps do not depend on what follows: keep the first copy
            entry.setdefault("at", out["at"])
            entry.setdefault("curve", out["curve"])
            entry.setdefault("us", []).append(out["us_per_step"])
            if drift_name is not None:
                entry.setdefault("drift", {})[drift_name] = out["after_drift"]

    policies = []
    for candidate in candidates:
        runs = per_run[candidate.key]
        row: dict[str, Any] = {
            "key": candidate.key,
            "label": candidate.label,
            "arguments": candidate.arguments,
            "floor": candidate.floor,
            "ctr": {str(k): _stats([runs[s]["at"][k] for s in seeds]) for k in CHECKPOINTS},
            "per_seed_5000": [runs[s]["at"][STEPS] for s in seeds],
            "curve_mean": [
                statistics.fmean(v) for v in zip(*(runs[s]["curve"] for s in seeds), strict=True)
            ],
            "us_per_step": statistics.fmean(u for s in seeds for u in runs[s]["us"]),
        }
        if drift:
            row["drift"] = {
                name: _stats([runs[s]["drift"][name] for s in seeds]) for name in DRIFTS
            }
        policies.append(row)
    return {
        "steps": STEPS,
        "checkpoints": list(CHECKPOINTS),
        "curve_every": CURVE_EVERY,
        "seeds": list(seeds),
        "drift": drift,
        "policies": policies,
    }


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new`'s candidates added to (or replacing) `old`'s, when both ran the same protocol."""
    same = all(old.get(k) == new.get(k) for k in ("steps", "seeds", "drift", "checkpoints"))
    if not same:
        return new
    rows = {p["key"]: p for p in old["policies"]}
    rows.update({p["key"]: p for p in new["policies"]})
    order = [c.key for c in CANDIDATES]
    merged = dict(new)
    merged["policies"] = sorted(
        rows.values(), key=lambda p: order.index(p["key"]) if p["key"] in order else len(order)
    )
    merged["commands"] = [*old.get("commands", [old.get("command", "")]), new.get("command", "")]
    merged["machine"] = old.get("machine", new.get("machine"))
    return merged


def best(result: dict[str, Any]) -> dict[str, Any]:
    """The learning policy with the highest mean CTR at 5,000 steps."""
    learning = [p for p in result["policies"] if p["arguments"]]
    return max(learning, key=lambda p: p["ctr"][str(STEPS)]["mean"])
