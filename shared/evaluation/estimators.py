"""Off-policy estimators of a target policy's mean reward from logged bandit data.

Each logged decision gives the reward r of the action taken, its logging probability p, and the
target policy's probability q of that same action: the importance weight is w = q / p.
- IPS: mean(w r); unbiased when p > 0 wherever q > 0.
- SNIPS: sum(w r) / sum(w); slightly biased, much lower variance when weights are large.
- DR: mean(dm + w (r - qhat)), with `dm` the reward model's expected reward under the target
  policy and `qhat` its prediction for the logged action: unbiased like IPS, lower variance when
  the reward model is any good.
Intervals are normal approximations on the per-decision terms (delta method for SNIPS). They are
hand-written: the formulas are a few lines, and `vw-estimators` offers IPS/SNIPS only, with no DR.
The diagnostics say when to distrust an estimate: effective sample size (sum w)^2 / sum w^2, the
largest weight, and the mean weight (about 1 when the logs support the target policy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Z95 = 1.959964


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int
    ess: float
    max_weight: float
    mean_weight: float

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}


def _diagnostics(weights: Sequence[float]) -> tuple[float, float, float]:
    total, squares = sum(weights), sum(w * w for w in weights)
    ess = total * total / squares if squares else 0.0
    return ess, max(weights, default=0.0), total / len(weights) if weights else 0.0


def _normal(terms: Sequence[float]) -> tuple[float, float]:
    n = len(terms)
    mean = sum(terms) / n
    var = sum((t - mean) ** 2 for t in terms) / (n - 1) if n > 1 else 0.0
    return mean, Z95 * math.sqrt(var / n)


def _estimate(value: float, half: float, weights: Sequence[float]) -> Estimate:
    ess, wmax, wmean = _diagnostics(weights)
    return Estimate(value, value - half, value + half, len(weights), ess, wmax, wmean)


def ips(rewards: Sequence[float], weights: Sequence[float]) -> Estimate:
    if not rewards:
        return Estimate(0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0)
    mean, half = _normal([w * r for w, r in zip(weights, rewards, strict=True)])
    return _estimate(mean, half, weights)


def snips(rewards: Sequence[float], weights: Sequence[float]) -> Estimate:
    total = sum(weights)
    if not rewards or total <= 0:
        return Estimate(0.0, 0.0, 0.0, len(rewards), 0.0, 0.0, 0.0)
    n = len(rewards)
    value = sum(w * r for w, r in zip(weights, rewards, strict=True)) / total
    # delta method: the estimate's influence terms are w (r - value) / mean(w)
    mean_w = total / n
    terms = [w * (r - value) / mean_w for w, r in zip(weights, rewards, strict=True)]
    var = sum(t * t for t in terms) / (n - 1) if n > 1 else 0.0
    return _estimate(value, Z95 * math.sqrt(var / n), weights)


def dr(
    rewards: Sequence[float],
    weights: Sequence[float],
    predicted_logged: Sequence[float],
    predicted_target: Sequence[float],
) -> Estimate:
    if not rewards:
        return Estimate(0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0)
    terms = [
        dm + w * (r - qhat)
        for r, w, qhat, dm in zip(rewards, weights, predicted_logged, predicted_target, strict=True)
    ]
    mean, half = _normal(terms)
    return _estimate(mean, half, weights)
