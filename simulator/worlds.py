"""Synthetic worlds with hidden preferences, for tests, benchmarks and the simulator.

`TomAnna` is Vowpal Wabbit's content-personalization tutorial problem: two users, two times of
day, seven articles; a click (reward 1) only on the user's favourite for that time of day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# "camping" is nobody's favourite and comes first: the first action is Personalizer's baseline, and
# a baseline that already earns clicks would flatter a learner that learns nothing.
ARTICLES = ("camping", "politics", "sports", "music", "food", "finance", "health")

SCENARIO_1 = {
    ("Tom", "morning"): "politics",
    ("Tom", "afternoon"): "music",
    ("Anna", "morning"): "sports",
    ("Anna", "afternoon"): "politics",
}
# The tutorial's second and third preference sets (get_cost_new1, get_cost_new2): the second moves
# favourites onto actions already rewarded elsewhere, the third onto one never rewarded before.
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
PREFERENCE_SETS = (SCENARIO_1, SCENARIO_2, SCENARIO_3)


@dataclass(frozen=True)
class Visit:
    user: str
    time_of_day: str

    def context_features(self) -> list[dict[str, Any]]:
        return [{"User": {"user": self.user, "time_of_day": self.time_of_day}}]


class TomAnna:
    def __init__(self, seed: int, preferences: dict[tuple[str, str], str] | None = None) -> None:
        self._rng = random.Random(seed)
        self.preferences = preferences or SCENARIO_1

    def visit(self) -> Visit:
        return Visit(self._rng.choice(("Tom", "Anna")), self._rng.choice(("morning", "afternoon")))

    @staticmethod
    def actions() -> list[dict[str, Any]]:
        return [{"id": a, "features": [{"Action": {"article": a}}]} for a in ARTICLES]

    def reward(self, visit: Visit, action_id: str) -> float:
        return 1.0 if self.preferences[(visit.user, visit.time_of_day)] == action_id else 0.0

    def rank_request(self, visit: Visit, event_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "contextFeatures": visit.context_features(),
            "actions": self.actions(),
        }
        if event_id:
            body["eventId"] = event_id
        return body
