"""What every simulated world offers: visits, the actions a visit may be shown, hidden expected
rewards, and the visitor's reaction.

A world is a pure function of its seed: visit (visitor, session, page) is the same every time it
is asked for, so a queue message redelivered to another instance replays the same visit, and the
oracle and uniform random are evaluated on exactly the visits the app served.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

# What a stage of the funnel is worth; the same map retail integrations use for rewards from
# activity (click 0.2, add to cart 0.5, purchase 1.0). A visit is worth its deepest stage.
STAGE_VALUES = {"offer_click": 0.2, "add_to_cart": 0.5, "purchase": 1.0}


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator that depends only on the seed and the parts (stable across processes)."""
    return random.Random("/".join(str(p) for p in (seed, *parts)))


@dataclass(frozen=True)
class SimVisit:
    """One page view of one visitor: who, in which (observed) context, and which taste epoch."""

    visitor: int
    session: int
    page: int
    ordinal: int  # position in arrival order: visitor * steps_per_visitor + step
    user_id: str
    segment: str
    context: dict[str, str] = field(hash=False)
    epoch: int = 0  # drift: tastes change when the ordinal passes the world's drift points


@dataclass(frozen=True)
class Reaction:
    """The stages the visitor reached after seeing the action (empty: only viewed it), and what
    the visit was worth (its deepest stage's value)."""

    stages: tuple[str, ...]
    reward: float


class World(ABC):
    """A seeded world. Subclasses define visits, actions, hidden value and requests."""

    name: str = "world"
    pages_per_session: int = 1
    channel: str = "rank"  # how a website in this world asks for a decision: rank | offers
    stage_values: ClassVar[dict[str, float]] = STAGE_VALUES

    def __init__(self, seed: int, drift_at: int = 0) -> None:
        self.seed = seed
        self.drift_at = drift_at  # 0: tastes never change

    def epoch(self, ordinal: int) -> int:
        return ordinal // self.drift_at if self.drift_at > 0 else 0

    def steps_per_visitor(self, sessions: int) -> int:
        return sessions * self.pages_per_session

    def visit_at(self, visitor: int, step: int, sessions: int) -> SimVisit:
        session, page = divmod(step, self.pages_per_session)
        ordinal = visitor * self.steps_per_visitor(sessions) + step
        return self.visit(visitor, session, page, ordinal)

    @abstractmethod
    def visit(self, visitor: int, session: int, page: int, ordinal: int) -> SimVisit: ...

    @abstractmethod
    def actions(self, visit: SimVisit) -> list[str]:
        """The actions this visit may be shown (what the oracle and random choose among)."""

    @abstractmethod
    def expected_reward(self, visit: SimVisit, action_id: str) -> float:
        """The hidden expected reward of showing `action_id` (any action of the world)."""

    @abstractmethod
    def react(self, visit: SimVisit, action_id: str, rng: random.Random) -> Reaction: ...

    @abstractmethod
    def rank_request(self, visit: SimVisit, event_id: str | None = None) -> dict[str, Any]:
        """The Personalizer rank body a website would send for this visit."""

    def activity_details(self, action_id: str) -> dict[str, Any]:
        """Extra fields of the activity events about this action (product, price)."""
        return {}

    def offers_request(self, visit: SimVisit) -> dict[str, Any]:
        raise NotImplementedError(f"world {self.name!r} has no offers page")

    # --- evaluation on the same visit ----------------------------------------------------------
    def oracle(self, visit: SimVisit) -> tuple[str, float]:
        """The best action under the hidden model, and its expected reward."""
        values = {a: self.expected_reward(visit, a) for a in self.actions(visit)}
        best = max(values, key=lambda a: values[a])
        return best, values[best]

    def random_value(self, visit: SimVisit) -> float:
        """Uniform random's expected reward on this visit."""
        actions = self.actions(visit)
        return sum(self.expected_reward(visit, a) for a in actions) / len(actions)

    def baseline_value(self, visit: SimVisit) -> float:
        """The baseline's (first action, Personalizer's baseline) expected reward."""
        return self.expected_reward(visit, self.actions(visit)[0])

    def reaction(self, stages: tuple[str, ...]) -> Reaction:
        return Reaction(stages, max((self.stage_values[s] for s in stages), default=0.0))

    def reaction_rng(self, visit: SimVisit) -> random.Random:
        return rng_for(self.seed, "react", visit.visitor, visit.session, visit.page)
