"""One step of one visitor: ask the app for a decision, react from the hidden model, tell the app.

The same function serves the direct driver (CLI, benchmarks) and the queue trigger, and it scores
the oracle, uniform random and the baseline on the very visit the app served.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from simulator.client import AppClient
from simulator.world import World


@dataclass(frozen=True)
class StepResult:
    ordinal: int
    visitor: int
    step: int
    action: str
    arm: str
    reward: float  # what the visitor did (the value of its deepest stage)
    expected: float  # the hidden expected reward of what the app chose
    oracle: float
    random: float
    baseline: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def play_step(
    world: World,
    client: AppClient,
    channel: str,
    visitor: int,
    step: int,
    sessions: int,
    event_id: str | None = None,
) -> StepResult:
    visit = world.visit_at(visitor, step, sessions)
    decision = client.decide(world, visit, channel, event_id or "")
    reaction = world.react(visit, decision.action_id, world.reaction_rng(visit))
    client.feedback(world, visit, decision, reaction, channel)
    return StepResult(
        ordinal=visit.ordinal,
        visitor=visitor,
        step=step,
        action=decision.action_id,
        arm=decision.arm,
        reward=reaction.reward,
        expected=world.expected_reward(visit, decision.action_id),
        oracle=world.oracle(visit)[1],
        random=world.random_value(visit),
        baseline=world.baseline_value(visit),
    )
