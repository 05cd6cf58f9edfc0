"""Target policies replayed over the logs: for each logged decision, the target's probability of
every action, computed before the decision is learned from (progressive validation: a VW policy
never sees the outcome of the decision it is evaluated on).

- `online`: the logging policy itself (its logged probabilities);
- `baseline`: the first action of the request, always (Personalizer's baseline);
- `random`: uniform over the actions;
- a VW argument set: a fresh model trained online over the logs, as it would have been live.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

Line = dict[str, Any]


class TargetPolicy(Protocol):
    name: str

    def probabilities(self, line: Line) -> list[float]:
        """Probability of each action, in the order of the line's `c._multi`."""
        ...

    def learn(self, line: Line) -> None: ...

    def close(self) -> None: ...


def action_count(line: Line) -> int:
    return len(line["c"]["_multi"])


def logged_probabilities(line: Line) -> list[float]:
    """The logging policy's probability of each action (DSJSON `a` is 1-based, `p` aligned)."""
    out = [0.0] * action_count(line)
    for action, p in zip(line["a"], line["p"], strict=False):
        out[int(action) - 1] = float(p)
    return out


class Online:
    name = "online"

    def probabilities(self, line: Line) -> list[float]:
        return logged_probabilities(line)

    def learn(self, line: Line) -> None:
        pass

    def close(self) -> None:
        pass


class Baseline(Online):
    name = "baseline"

    def probabilities(self, line: Line) -> list[float]:
        return [1.0] + [0.0] * (action_count(line) - 1)


class Uniform(Online):
    name = "random"

    def probabilities(self, line: Line) -> list[float]:
        k = action_count(line)
        return [1.0 / k] * k


class VWPolicy:
    """A VW contextual-bandit policy trained online over the logs (`--dsjson` lines as logged)."""

    def __init__(self, name: str, arguments: str) -> None:
        import vowpalwabbit

        from shared.vw_model import vw_arguments

        self.name = name
        self.arguments = arguments
        self._vw = vowpalwabbit.Workspace(f"{vw_arguments(arguments)} --dsjson --quiet")

    def probabilities(self, line: Line) -> list[float]:
        unlabelled = {k: v for k, v in line.items() if not k.startswith("_label")}
        examples = self._vw.parse(json.dumps(unlabelled))
        try:
            pmf = list(self._vw.predict(examples))
        finally:
            self._vw.finish_example(examples)
        return [float(p) for p in pmf]

    def learn(self, line: Line) -> None:
        examples = self._vw.parse(json.dumps(line))
        try:
            self._vw.learn(examples)
        finally:
            self._vw.finish_example(examples)

    def close(self) -> None:
        self._vw.finish()


class RewardModel:
    """The direct method's reward model for DR: the running mean reward of each action (by its
    features), over the decisions seen before — simple, never sees the decision it predicts."""

    def __init__(self) -> None:
        self._sums: dict[str, tuple[float, int]] = {}
        self._global = (0.0, 0)

    @staticmethod
    def _key(action: Any) -> str:
        return json.dumps(action, sort_keys=True)

    def predict(self, line: Line) -> list[float]:
        g_total, g_n = self._global
        prior = g_total / g_n if g_n else 0.0
        out = []
        for action in line["c"]["_multi"]:
            total, n = self._sums.get(self._key(action), (0.0, 0))
            out.append((total + prior) / (n + 1))
        return out

    def learn(self, line: Line, reward: float) -> None:
        chosen = line["c"]["_multi"][int(line["_label_Action"]) - 1]
        total, n = self._sums.get(self._key(chosen), (0.0, 0))
        self._sums[self._key(chosen)] = (total + reward, n + 1)
        self._global = (self._global[0] + reward, self._global[1] + 1)
