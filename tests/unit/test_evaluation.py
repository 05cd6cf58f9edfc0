"""Offline evaluation: estimator intervals cover a known truth at about their stated rate, and
replayed policies over DSJSON logs rank a planted better policy above the baseline and random."""

from __future__ import annotations

import random
from typing import Any

import pytest

from shared.evaluation.estimators import dr, ips, snips
from shared.evaluation.policies import Baseline, Online, Uniform, VWPolicy
from shared.evaluation.runner import evaluate

MEANS = [[0.1, 0.5, 0.3, 0.2], [0.6, 0.2, 0.1, 0.3], [0.2, 0.2, 0.7, 0.1]]
LOGGING = [0.4, 0.3, 0.2, 0.1]


def synthetic(
    n: int, rng: random.Random
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Logs of a known logging policy; target: the best action per context (deterministic)."""
    rewards, weights, qhat, dm = [], [], [], []
    for _ in range(n):
        x = rng.randrange(3)
        probs = LOGGING[x:] + LOGGING[:x]  # the logging policy depends on the context
        a = rng.choices(range(4), weights=probs)[0]
        r = float(rng.random() < MEANS[x][a])
        best = max(range(4), key=lambda i: MEANS[x][i])
        w = (1.0 if a == best else 0.0) / probs[a]
        rewards.append(r)
        weights.append(w)
        qhat.append(0.3)  # a poor reward model: DR must stay unbiased anyway
        dm.append(0.3)
    return rewards, weights, qhat, dm


TRUTH = sum(max(row) for row in MEANS) / 3


@pytest.mark.parametrize("name", ["ips", "snips", "dr"])
def test_intervals_cover_the_truth_at_about_95_percent(name: str) -> None:
    rng = random.Random(11)
    covered = 0
    runs = 300
    for _ in range(runs):
        r, w, q, d = synthetic(400, rng)
        if name == "ips":
            est = ips(r, w)
        elif name == "snips":
            est = snips(r, w)
        else:
            est = dr(r, w, q, d)
        covered += est.low <= TRUTH <= est.high
    assert 0.90 <= covered / runs <= 0.99, covered / runs


def test_diagnostics_flag_weak_support() -> None:
    rng = random.Random(3)
    r, w, _, _ = synthetic(1000, rng)
    est = ips(r, w)
    assert 0.8 < est.mean_weight < 1.2  # supported: weights average about one
    assert est.ess < est.n / 2 and est.max_weight == pytest.approx(1 / 0.3)  # best: logged at 0.3


def logs(n: int, seed: int = 5) -> list[dict[str, object]]:
    """Uniform-random logging over three offers; Tom clicks `b`, Anna clicks `c`."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        user = rng.choice(["Tom", "Anna"])
        chosen = rng.randrange(3)
        reward = float(["a", "b", "c"][chosen] == {"Tom": "b", "Anna": "c"}[user])
        a = [chosen + 1] + [j + 1 for j in range(3) if j != chosen]
        lines.append(
            {
                "_label_cost": -reward,
                "_label_probability": 1 / 3,
                "_label_Action": chosen + 1,
                "_labelIndex": chosen,
                "Timestamp": f"2026-11-23T{(i * 3) // n:02d}:00:00.000000Z",
                "a": a,
                "p": [1 / 3] * 3,
                "c": {"u": {f"user={user}": 1}, "_multi": [{"o": {f"id={x}": 1}} for x in "abc"]},
            }
        )
    return lines


def test_a_learning_policy_is_estimated_above_baseline_and_random() -> None:
    vw = VWPolicy("eps", "--cb_explore_adf --epsilon 0.05 -q ::")
    try:
        out = evaluate(logs(3000), [Online(), Baseline(), Uniform(), vw])
    finally:
        vw.close()
    total = {r["name"]: r["totalSummary"]["estimates"] for r in out["policyResults"]}
    assert total["online"]["ips"]["value"] == pytest.approx(1 / 3, abs=0.03)
    assert total["random"]["snips"]["value"] == pytest.approx(1 / 3, abs=0.03)
    assert total["baseline"]["ips"]["value"] < 0.05  # `a` is nobody's favourite
    assert total["eps"]["dr"]["low"] > total["random"]["dr"]["high"]
    assert total["eps"]["dr"]["value"] > 0.8
    windows = out["policyResults"][3]["summary"]
    assert len(windows) == 3 and windows[-1]["averageReward"] > windows[0]["averageReward"]


def test_feature_importance_ranks_the_namespace_that_decides_rewards() -> None:
    from shared.evaluation.importance import feature_importance

    lines = logs(1500)
    for i, line in enumerate(lines):
        line["c"]["noise"] = {f"n={i % 7}": 1}  # type: ignore[index]
    scores = feature_importance(lines, "--cb_explore_adf --epsilon 0.05 -q ::")
    # the reward depends on who the user is and which offer: both matter, the noise does not
    assert (
        max(scores["u"], scores["action.o"]) == 100.0 and min(scores["u"], scores["action.o"]) > 50
    )
    assert scores["noise"] < 20
    assert set(scores) == {"u", "noise", "action.o"}


def test_the_cli_evaluates_a_local_archive_folder(tmp_path: Any, capsys: Any) -> None:
    import orjson

    from shared.evaluate import main

    folder = tmp_path / "joined"
    folder.mkdir()
    (folder / "v1.json").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in logs(600)))
    plot = tmp_path / "plot.png"
    code = main(["--folder", str(folder), "--policy", "eps=--cb_explore_adf --epsilon 0.05 -q ::",
                 "--plot", str(plot), "--optimize"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and plot.stat().st_size > 1000
    assert "random" in out and "eps" in out and "dr" in out and "opt-squarecb-q" in out
    assert "best replayed policy:" in out and "-q ::" in out.split("best replayed policy:")[1]


def test_the_optimizer_recovers_a_clearly_better_policy() -> None:
    """A planted problem: the online policy has no interaction terms, so it cannot learn that
    Tom and Anna like different offers; the grid holds policies with `-q ::` that can."""
    from shared.evaluation import optimizer

    online = "--cb_explore_adf --epsilon 0.2"
    candidates = [VWPolicy(c["name"], c["arguments"]) for c in optimizer.grid()]
    replayed = VWPolicy("online policy replayed", online)
    policies = [Online(), Baseline(), Uniform(), replayed, *candidates]
    try:
        out = evaluate(logs(3000), policies)
    finally:
        for policy in policies:
            policy.close()
    results = out["policyResults"]
    best = optimizer.best(results[3:])
    assert "-q ::" in best["arguments"], best["name"]
    assert optimizer.lower(best) > optimizer.estimate(results[3]) + 0.2  # clearly better
    decision = optimizer.decide(results[0], [r for r in results[3:] if r["arguments"] != online])
    assert decision["decision"] == "applied" and decision["candidate"]["name"] == best["name"]
    # the same candidates against an online policy that already earns what they would: kept
    strong = {"totalSummary": {"estimates": {"dr": {"value": 0.99, "low": 0.98}}}}
    assert optimizer.decide(strong, results[4:])["decision"] == "kept"
    assert len({c["arguments"] for c in optimizer.grid()}) == len(optimizer.grid()) == 8
