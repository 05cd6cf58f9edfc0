"""Direct traffic: play a run's visitors against a base URL from this process (no queue), paced,
with a progress bar. Visitors arrive in order; each one's steps run in sequence."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simulator.client import AppClient
from simulator.visitor import StepResult, play_step
from simulator.world import World


class Pacer:
    """Hands out start times `1/rate` apart across threads (rate <= 0: no pacing)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            slot = max(self._next, time.monotonic())
            self._next = slot + self.interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def drive(
    world: World,
    client: AppClient,
    *,
    visitors: int,
    sessions: int = 1,
    channel: str | None = None,
    rate: float = 0.0,
    workers: int = 1,
    run_id: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[dict[str, Any]]:
    """Every step of every visitor; the rows (StepResult.as_dict()) in ordinal order."""
    channel = channel or world.channel
    run_id = run_id or uuid.uuid4().hex[:10]
    steps = world.steps_per_visitor(sessions)
    pacer = Pacer(rate)
    rows: list[dict[str, Any]] = []
    lock = threading.Lock()

    def visitor(v: int) -> None:
        for step in range(steps):
            pacer.wait()
            event_id = f"sim-{run_id}-{v}-{step}"
            result = play_step(world, client, channel, v, step, sessions, event_id)
            with lock:
                rows.append(result.as_dict())
            if on_step:
                on_step(result)

    if workers <= 1:
        for v in range(visitors):
            visitor(v)
    else:
        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(visitor, v) for v in range(visitors)]:
                future.result()
    return sorted(rows, key=lambda r: int(r["ordinal"]))
