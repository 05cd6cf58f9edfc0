"""The learning curve: reward per window of decisions beside the oracle, uniform random and the
baseline/control arm, with the regret; as rows, CSV and a PNG plot.

The app's reward per window is the hidden expected reward of what it chose (less noisy than the
clicks drawn from it; `observed` has those). "control" is the offers API's control arm when its
answers name one, else the baseline action (Personalizer's: the first action).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FIELDS = ("window", "decisions", "app", "observed", "oracle", "random", "control", "regret")


@dataclass(frozen=True)
class Window:
    window: int  # decisions before this window ended (its last ordinal + 1)
    decisions: int
    app: float
    observed: float
    oracle: float
    random: float
    control: float
    regret: float  # oracle - app, per decision

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


class Totals:
    """Running sums of one window (also what the queue run store keeps per ordinal bucket)."""

    KEYS = ("n", "reward", "expected", "oracle", "random", "baseline", "control_n", "control")

    def __init__(self, values: Sequence[float] | None = None) -> None:
        self.values = list(values) if values else [0.0] * len(self.KEYS)

    def add(self, row: dict[str, Any]) -> None:
        v = self.values
        v[0] += 1
        v[1] += row["reward"]
        v[2] += row["expected"]
        v[3] += row["oracle"]
        v[4] += row["random"]
        v[5] += row["baseline"]
        if row.get("arm") == "control":
            v[6] += 1
            v[7] += row["expected"]

    def merge(self, other: Totals) -> None:
        self.values = [a + b for a, b in zip(self.values, other.values, strict=True)]

    def window(self, end: int) -> Window:
        n, reward, expected, oracle, random, baseline, control_n, control = self.values
        n = max(n, 1)
        control_mean = control / control_n if control_n else baseline / n
        # the app's reward is its personalized decisions' (the control arm's are reported apart)
        personalized = max(n - control_n, 1)
        return Window(
            window=end,
            decisions=int(self.values[0]),
            app=(expected - control) / personalized if control_n < n else expected / n,
            observed=reward / n,
            oracle=oracle / n,
            random=random / n,
            control=control_mean,
            regret=(oracle - expected) / n,
        )


def windows(rows: Iterable[dict[str, Any]], size: int) -> list[Window]:
    """Rows (StepResult.as_dict()) grouped by ordinal // size, in order."""
    buckets: dict[int, Totals] = {}
    for row in rows:
        buckets.setdefault(int(row["ordinal"]) // size, Totals()).add(row)
    return [buckets[b].window((b + 1) * size) for b in sorted(buckets)]


def write_csv(curve: Sequence[Window], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        for w in curve:
            writer.writerow(w.as_dict())


def plot(curve: Sequence[Window], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [w.window for w in curve]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot(x, [w.oracle for w in curve], "k--", label="oracle")
    top.plot(x, [w.app for w in curve], "C0-", linewidth=2, label="app (expected)")
    top.plot(x, [w.observed for w in curve], "C0:", alpha=0.6, label="app (observed)")
    top.plot(x, [w.control for w in curve], "C2-", label="control / baseline")
    top.plot(x, [w.random for w in curve], "C3-", label="uniform random")
    top.set_ylabel("reward per decision")
    top.set_title(title)
    top.legend(loc="lower right", fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(x, [w.regret for w in curve], "C1-")
    bottom.set_ylabel("regret")
    bottom.set_xlabel("decisions")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(curve: Sequence[Window]) -> str:
    head = ("decisions", "app", "oracle", "random", "control", "regret")
    lines = [" ".join(f"{h:>9}" if i == 0 else f"{h:>7}" for i, h in enumerate(head))]
    lines += [
        f"{w.window:>9} {w.app:7.3f} {w.oracle:7.3f} {w.random:7.3f} {w.control:7.3f}"
        f" {w.regret:7.3f}"
        for w in curve
    ]
    return "\n".join(lines)
