"""The website side: how a simulated visitor calls the app over its public HTTP API.

Two ways a site asks for a decision:
- `offers`: POST /api/offers, then the shopper's activity to POST /api/activity (offer_view, and
  offer_click / add_to_cart / purchase as far as the shopper goes), each carrying the decision's
  eventId so the app turns it into a reward;
- `offers-reward`: POST /api/offers, and the visit's value to the reward route (for an app
  without the activity route; the same learning, no activity aggregates);
- `rank`: the Personalizer routes, POST …/rank then POST …/events/{id}/reward with the visit's
  value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from simulator.world import Reaction, SimVisit, World

PERSONALIZER = "/personalizer/v1.0"
CHANNELS = ("offers", "offers-reward", "rank")


class AppError(RuntimeError):
    """The app answered with an error (the caller retries the step, or the queue does)."""


@dataclass(frozen=True)
class Decision:
    event_id: str
    action_id: str
    arm: str = "treatment"  # the offers API's control group answers "control"


class AppClient:
    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        if api_key:
            self.session.headers["Ocp-Apim-Subscription-Key"] = api_key

    def _post(self, path: str, body: Any) -> requests.Response:
        try:
            response = self.session.post(f"{self.base}{path}", json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AppError(f"POST {path}: {exc}") from exc
        if response.status_code >= 400:
            raise AppError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
        return response

    def get_json(self, path: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base}{path}", timeout=self.timeout)
        if response.status_code >= 400:
            raise AppError(f"GET {path} -> {response.status_code}: {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    # --- one visit -----------------------------------------------------------------------------
    def decide(self, world: World, visit: SimVisit, channel: str, event_id: str) -> Decision:
        if channel == "rank":
            answer = self._post(f"{PERSONALIZER}/rank", world.rank_request(visit, event_id)).json()
            return Decision(str(answer["eventId"]), str(answer["rewardActionId"]))
        body = world.offers_request(visit)
        if event_id:
            body["eventId"] = event_id  # a replayed step asks again under the same id
        answer = self._post("/offers", body).json()
        offers = answer.get("offers") or []
        if not offers:
            raise AppError("POST /offers answered no offers")
        first = offers[0]
        action = first.get("offerId") or first.get("id")
        return Decision(str(answer["eventId"]), str(action), str(answer.get("arm") or "treatment"))

    def feedback(
        self, world: World, visit: SimVisit, decision: Decision, reaction: Reaction, channel: str
    ) -> None:
        if channel in ("rank", "offers-reward"):
            if reaction.reward:
                path = f"{PERSONALIZER}/events/{decision.event_id}/reward"
                self._post(path, {"value": reaction.reward})
            return
        details = world.activity_details(decision.action_id)
        answer = self._post("/activity", activity_events(visit, decision, reaction, details))
        rejected = answer.json().get("rejected") or []
        if rejected:  # a simulator bug, not the shopper's: say so loudly
            raise AppError(f"POST /activity rejected {rejected}")


def activity_events(
    visit: SimVisit, decision: Decision, reaction: Reaction, details: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The shopper's activity for one shown offer: the view, then each stage reached. Ids derive
    from the decision, so a replayed step sends the same events (the app recognises them)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    common = {
        "userId": visit.user_id,
        "sessionId": f"{visit.user_id}-s{visit.visitor}-{visit.session}",
        "offerId": decision.action_id,
        "eventId": decision.event_id,
        "timestamp": now,
        "context": dict(visit.context),
        **(details or {}),
    }
    events = []
    for kind in ("offer_view", *reaction.stages):
        event: dict[str, Any] = {"id": f"{decision.event_id}-{kind}", "type": kind, **common}
        if kind in ("add_to_cart", "purchase"):
            event["quantity"] = 1
        else:
            event.pop("price", None)
        events.append(event)
    return events
