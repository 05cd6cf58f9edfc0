"""Dependency checks for GET /api/health: each dependency answers within a deadline or is down."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")

Check = Callable[[], None]


def check_dependencies(checks: dict[str, Check], timeout: float = 3.0) -> dict[str, dict[str, Any]]:
    """Run every check in parallel; one that fails or overruns `timeout` is reported down.
    The checks themselves are built by shared/wiring.py from the objects it holds."""

    def timed(check: Callable[[], None]) -> float:
        start = time.perf_counter()
        check()
        return (time.perf_counter() - start) * 1000

    futures = {name: _pool.submit(timed, check) for name, check in checks.items()}
    wait(futures.values(), timeout=timeout)
    report: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        if not future.done():
            report[name] = {"status": "down", "error": f"no answer within {timeout:.0f}s"}
        elif (exc := future.exception()) is not None:
            report[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            report[name] = {"status": "up", "latencyMs": round(future.result(), 1)}
    return report
