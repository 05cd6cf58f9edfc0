"""Reward per experiment arm, and the lift of personalization over the control group, read from
the joined archive (shared/archive.py): each offers decision carries its arm (`_arm`) and the
reward it was learned with, after the reward window closed — the same numbers the learner used,
so the lift is about what the business actually got, not about clicks reported somewhere else."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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


def lift(archive: JoinedArchive, hours: int, now: datetime | None = None) -> LiftReport:
    end = now or datetime.now(UTC)
    report = LiftReport()
    for line in archive.lines(archive.paths_between(end - timedelta(hours=hours), end)):
        report.add_line(line)
    return report
