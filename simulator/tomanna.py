"""The Tom/Anna world (VW's content-personalization tutorial) as a simulator world.

Two users, two times of day, seven articles; a click (reward 1) only on the user's favourite. The
tutorial's three preference sets: `preferences` picks one; with `drift_at` the world moves from
set 1 to 2 to 3 every `drift_at` visits, as the tutorial's second and third scenarios do.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from simulator.world import Reaction, SimVisit, World, rng_for
from simulator.worlds import ARTICLES, PREFERENCE_SETS, TomAnna

USERS = ("Tom", "Anna")
TIMES = ("morning", "afternoon")


class TomAnnaWorld(World):
    name = "tomanna"
    stage_values: ClassVar[dict[str, float]] = {"offer_click": 1.0}  # the tutorial: 1 per click

    def __init__(self, seed: int, drift_at: int = 0, preferences: int = 1) -> None:
        super().__init__(seed, drift_at)
        if not 1 <= preferences <= len(PREFERENCE_SETS):
            raise ValueError(f"preferences must be 1..{len(PREFERENCE_SETS)}")
        self.first_set = preferences - 1

    def preferences(self, epoch: int) -> dict[tuple[str, str], str]:
        return PREFERENCE_SETS[min(self.first_set + epoch, len(PREFERENCE_SETS) - 1)]

    def visit(self, visitor: int, session: int, page: int, ordinal: int) -> SimVisit:
        user = rng_for(self.seed, "user", visitor).choice(USERS)
        time_of_day = rng_for(self.seed, "time", visitor, session).choice(TIMES)
        return SimVisit(
            visitor=visitor,
            session=session,
            page=page,
            ordinal=ordinal,
            user_id=user,
            segment=user,
            context={"user": user, "time_of_day": time_of_day},
            epoch=self.epoch(ordinal),
        )

    def actions(self, visit: SimVisit) -> list[str]:
        return list(ARTICLES)

    def expected_reward(self, visit: SimVisit, action_id: str) -> float:
        favourite = self.preferences(visit.epoch)[(visit.user_id, visit.context["time_of_day"])]
        return 1.0 if action_id == favourite else 0.0

    def react(self, visit: SimVisit, action_id: str, rng: random.Random) -> Reaction:
        clicked = self.expected_reward(visit, action_id) > 0
        return self.reaction(("offer_click",) if clicked else ())

    def rank_request(self, visit: SimVisit, event_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "contextFeatures": [{"User": dict(visit.context)}],
            "actions": TomAnna.actions(),
        }
        if event_id:
            body["eventId"] = event_id
        return body
