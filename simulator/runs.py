"""Queue-driven runs: start, follow and stop them, and play one queue message.

A run is started by one `spawn` message. Each spawn message enqueues the visitors arriving in
the next SPAWN_SECONDS (each with a visibility delay, so arrivals follow the run's rate) and the
next spawn. Each `step` message is one page of one visitor: ask the app, react, tell the app,
enqueue the visitor's next page with the think time as its visibility delay, then account the
step in the run store. Delivery is at least once: a step found accounted already is dropped
(its successor was enqueued before it was accounted), so accounting is exactly once and a
duplicated chain dies at its next step. A message that cannot be parsed raises: the host retries
it and then parks it in `<queue>-poison`; the run goes on.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.client import AppClient
from simulator.run_store import RunNotFound, RunSpec, RunStore, now_iso
from simulator.scenarios import build_world
from simulator.visitor import play_step

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient

log = logging.getLogger(__name__)

SPAWN_SECONDS = 5
SESSION_GAP_FACTOR = 3  # a visitor's next session starts after 3 think times
SPEC_CACHE_SECONDS = 2.0


class SimulationRequest(BaseModel):
    """POST /api/simulations."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(description="retail, retail-drift, tomanna, tomanna-2, ... (see docs)")
    visitors: int = Field(100, ge=1, le=100_000)
    sessionsPerVisitor: int = Field(1, ge=1, le=100)
    seed: int = Field(1, ge=0)
    rate: float = Field(10.0, gt=0, le=1_000, description="decisions per second, all visitors")
    thinkSeconds: float = Field(1.0, ge=0, le=3_600, description="between a visitor's pages")
    driftAt: int | None = Field(None, ge=0, description="visits between taste changes; 0 never")
    channel: Literal["offers", "offers-reward", "rank"] | None = Field(
        None,
        description="offers: /api/offers + /api/activity; offers-reward: /api/offers + the"
        " reward route; rank: the Personalizer routes (default: the scenario's)",
    )
    window: int = Field(500, ge=10, le=1_000_000, description="decisions per reported window")


class BadMessage(ValueError):
    """Not a simulator message: raised so that the host parks it in the poison queue."""


def encode(message: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(message).encode()).decode()


def decode(body: bytes | str) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"not JSON: {exc}") from exc
    if not isinstance(message, dict) or message.get("kind") not in ("spawn", "step"):
        raise BadMessage(f"not a simulator message: {str(body)[:200]}")
    try:
        int(message.get("slot", 0)), int(message.get("visitor", 0)), int(message.get("step", 0))
        str(message["run"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadMessage(f"malformed simulator message: {exc}") from exc
    return message


class Simulations:
    def __init__(
        self,
        store: RunStore,
        queue: QueueClient,
        client_factory: Callable[[], AppClient],
    ) -> None:
        self.store = store
        self.queue = queue
        self._client_factory = client_factory
        self._local = threading.local()
        self._specs: dict[str, tuple[float, RunSpec]] = {}

    # --- the API -------------------------------------------------------------------------------
    def start(self, request: SimulationRequest) -> dict[str, Any]:
        """Validate, store the run, enqueue its first spawn. ValueError: a bad request."""
        world = build_world(request.scenario, request.seed, request.driftAt)  # ValueError
        channel = request.channel or world.channel
        if channel.startswith("offers") and world.channel != "offers":
            raise ValueError(f"scenario {request.scenario!r} has no offers page; use rank")
        spec = RunSpec(
            id=uuid.uuid4().hex[:12],
            scenario=request.scenario,
            visitors=request.visitors,
            sessions=request.sessionsPerVisitor,
            seed=request.seed,
            rate=request.rate,
            think_seconds=request.thinkSeconds,
            drift_at=request.driftAt,
            channel=channel,
            window=request.window,
            steps_per_visitor=world.steps_per_visitor(request.sessionsPerVisitor),
            created=now_iso(),
        )
        self.store.create(spec)
        self.queue.send_message(encode({"kind": "spawn", "run": spec.id, "slot": 0}))
        return self.store.summary(spec.id)

    def status(self, run_id: str) -> dict[str, Any]:
        return self.store.summary(run_id)  # RunNotFound

    def stop(self, run_id: str) -> dict[str, Any]:
        self.store.stop(run_id)
        return self.store.summary(run_id)

    # --- the queue -----------------------------------------------------------------------------
    def handle(self, body: bytes | str) -> str:
        """Play one message; what happened, for the log. Raises BadMessage for poison."""
        message = decode(body)
        try:
            spec = self._spec(str(message["run"]))
        except RunNotFound:
            return f"run {message['run']} unknown (deleted?): message dropped"
        if spec.status != "running":
            return f"run {spec.id} is {spec.status}: message dropped"
        if message["kind"] == "spawn":
            return self._spawn(spec, int(message["slot"]))
        return self._step(spec, int(message["visitor"]), int(message["step"]))

    def _spec(self, run_id: str) -> RunSpec:
        now = time.monotonic()
        cached = self._specs.get(run_id)
        if cached and now - cached[0] < SPEC_CACHE_SECONDS:
            return cached[1]
        spec = self.store.spec(run_id)
        self._specs[run_id] = (now, spec)
        return spec

    def _spawn(self, spec: RunSpec, slot: int) -> str:
        per_second = spec.rate / spec.steps_per_visitor  # visitor arrivals per second
        first = math.ceil(slot * SPAWN_SECONDS * per_second)
        end = min(spec.visitors, math.ceil((slot + 1) * SPAWN_SECONDS * per_second))
        for visitor in range(first, end):
            delay = int(visitor / per_second - slot * SPAWN_SECONDS)
            self._send({"kind": "step", "run": spec.id, "visitor": visitor, "step": 0}, delay)
        if end < spec.visitors:
            self._send({"kind": "spawn", "run": spec.id, "slot": slot + 1}, SPAWN_SECONDS)
        return f"run {spec.id}: spawned visitors {first}..{end - 1}"

    def _step(self, spec: RunSpec, visitor: int, step: int) -> str:
        if not 0 <= visitor < spec.visitors or not 0 <= step < spec.steps_per_visitor:
            raise BadMessage(f"run {spec.id} has no visitor {visitor} step {step}")
        if self.store.accounted(spec.id, visitor, step):
            return f"run {spec.id}: visitor {visitor} step {step} done before: dropped"
        world = build_world(spec.scenario, spec.seed, spec.drift_at)
        event_id = f"sim-{spec.id}-{visitor}-{step}"
        result = play_step(
            world, self._client(), spec.channel, visitor, step, spec.sessions, event_id
        )
        if step + 1 < spec.steps_per_visitor:
            new_session = (step + 1) % world.pages_per_session == 0
            think = spec.think_seconds * (SESSION_GAP_FACTOR if new_session else 1)
            self._send(
                {"kind": "step", "run": spec.id, "visitor": visitor, "step": step + 1},
                round(think),
            )
        self.store.record(spec, result.as_dict())
        return f"run {spec.id}: visitor {visitor} step {step} reward {result.reward}"

    def _send(self, message: dict[str, Any], delay: int) -> None:
        self.queue.send_message(encode(message), visibility_timeout=max(0, delay) or None)

    def _client(self) -> AppClient:
        client: AppClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._client_factory()
        return client
