"""Evaluate policies over logged decisions: one pass over the lines in time order; for each line
every policy gives its probabilities (before learning it), then learns it. Results per time
window and in total, with IPS, SNIPS and DR, and Personalizer's summary fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.evaluation.estimators import Estimate, dr, ips, snips
from shared.evaluation.policies import Line, RewardModel, TargetPolicy, logged_probabilities

WINDOW_SECONDS = 3600  # per-window estimates: an hour, as Personalizer's charts


@dataclass
class Terms:
    rewards: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    predicted_logged: list[float] = field(default_factory=list)
    predicted_target: list[float] = field(default_factory=list)

    def add(self, reward: float, weight: float, qhat: float, dm: float) -> None:
        self.rewards.append(reward)
        self.weights.append(weight)
        self.predicted_logged.append(qhat)
        self.predicted_target.append(dm)

    def estimates(self) -> dict[str, Estimate]:
        return {
            "ips": ips(self.rewards, self.weights),
            "snips": snips(self.rewards, self.weights),
            "dr": dr(self.rewards, self.weights, self.predicted_logged, self.predicted_target),
        }

    def summary(self, when: str, window: str) -> dict[str, Any]:
        """Personalizer's PolicyResultSummary, with our estimates and diagnostics beside it."""
        est = self.estimates()
        numerator = sum(w * r for w, r in zip(self.weights, self.rewards, strict=True))
        return {
            "timeStamp": when,
            "ipsEstimatorNumerator": numerator,
            "ipsEstimatorDenominator": float(len(self.rewards)),
            "snipsEstimatorDenominator": sum(self.weights),
            "aggregateTimeWindow": window,
            "nonZeroProbability": float(sum(w > 0 for w in self.weights)),
            "sumOfSquares": sum(
                (w * r) ** 2 for w, r in zip(self.weights, self.rewards, strict=True)
            ),
            "confidenceInterval": round((est["ips"].high - est["ips"].low) / 2, 6),
            "averageReward": round(est["snips"].value, 6),
            "estimates": {k: v.to_json() for k, v in est.items()},
        }


def _window(line: Line, seconds: int) -> float:
    stamp = str(line.get("Timestamp") or "1970-01-01T00:00:00Z").replace("Z", "+00:00")
    t = datetime.fromisoformat(stamp).timestamp()
    return t - t % seconds


def evaluate(
    lines: Iterable[Line],
    policies: list[TargetPolicy],
    window_seconds: int = WINDOW_SECONDS,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    model = RewardModel()
    totals = {p.name: Terms() for p in policies}
    windows: dict[str, dict[float, Terms]] = {p.name: {} for p in policies}
    count = 0
    for line in lines:
        logged = logged_probabilities(line)
        chosen = int(line["_label_Action"]) - 1
        p_logged = logged[chosen] or float(line.get("_label_probability") or 0.0)
        if p_logged <= 0:
            continue  # no support: cannot be used by any estimator
        reward = -float(line["_label_cost"])
        predicted = model.predict(line)
        when = _window(line, window_seconds)
        for policy in policies:
            target = policy.probabilities(line)
            weight = target[chosen] / p_logged
            dm = sum(q * r for q, r in zip(target, predicted, strict=False))
            for terms in (totals[policy.name], windows[policy.name].setdefault(when, Terms())):
                terms.add(reward, weight, predicted[chosen], dm)
            policy.learn(line)
        model.learn(line, reward)
        count += 1
        if progress:
            progress(1)
    span = f"PT{window_seconds // 60}M" if window_seconds < 3600 else f"PT{window_seconds // 3600}H"
    results = []
    for policy in policies:
        results.append(
            {
                "name": policy.name,
                "arguments": getattr(policy, "arguments", ""),
                "summary": [
                    terms.summary(_iso(t), span)
                    for t, terms in sorted(windows[policy.name].items())
                ],
                "totalSummary": totals[policy.name].summary(_iso(0), "total"),
            }
        )
    return {"decisions": count, "policyResults": results}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
