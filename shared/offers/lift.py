"""Reward per experiment arm, and the lift of personalization over the control group, read from
the joined archive (shared/archive.py): each offers decision carries its arm (`_arm`) and the
reward it was learned with, after the reward window closed — the same numbers the learner used,
so the lift is about what the business actually got, not about clicks reported somewhere else."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from shared.archive import JoinedArchive

Z95 = 1.959964


@dataclass
class ArmStats:
    n: int = 0
    total: float = 0.0
    squares: float = 0.0
    rewarded: int = 0

    def add(self, reward: float) -> None:
        self.n += 1
        self.total += reward
        self.squares += reward * reward
        self.rewarded += reward > 0

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        if self.n < 2:
            return 0.0
        return max(0.0, (self.squares - self.n * self.mean**2) / (self.n - 1))

    def to_json(self) -> dict[str, Any]:
        half = Z95 * math.sqrt(self.variance / self.n) if self.n else 0.0
        return {
            "decisions": self.n,
            "rewarded": self.rewarded,
            "meanReward": round(self.mean, 6),
            "ci95": [round(self.mean - half, 6), round(self.mean + half, 6)],
        }


@dataclass
class LiftReport:
    arms: dict[str, ArmStats] = field(default_factory=dict)

    def add_line(self, line: dict[str, Any]) -> None:
        arm = line.get("_arm")
        if arm:
            self.arms.setdefault(str(arm), ArmStats()).add(-float(line.get("_label_cost", 0.0)))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {k: v.to_json() for k, v in sorted(self.arms.items())}
        p, c = self.arms.get("personalized"), self.arms.get("control")
        lift: dict[str, Any] | None = None
        if p and c and p.n and c.n:
            diff = p.mean - c.mean
            half = Z95 * math.sqrt(p.variance / p.n + c.variance / c.n)
            lift = {
                "absolute": round(diff, 6),
                "ci95": [round(diff - half, 6), round(diff + half, 6)],
                "relative": round(diff / c.mean, 4) if c.mean else None,
                "significant": diff - half > 0 or diff + half < 0,
            }
        return {"arms": body, "lift": lift}


def hour_prefixes(now: datetime, hours: int) -> list[str]:
    start = now - timedelta(hours=hours)
    out = []
    t = start.replace(minute=0, second=0, microsecond=0)
    while t <= now:
        out.append(f"joined/{t.strftime('%Y/%m/%d/%H')}/")
        t += timedelta(hours=1)
    return out


def lift(archive: JoinedArchive, hours: int, now: datetime | None = None) -> LiftReport:
    report = LiftReport()
    for prefix in hour_prefixes(now or datetime.now(UTC), hours):
        for path in archive.list(prefix):
            for line in _lines(archive.read(path)):
                report.add_line(line)
    return report


def _lines(body: bytes) -> Iterable[dict[str, Any]]:
    for raw in body.splitlines():
        if raw:
            yield orjson.loads(raw)
