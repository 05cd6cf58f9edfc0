"""Calls user functions like the Python worker: `def` in a thread pool, `async def` on one shared
event loop, one INFO line per invocation with the outcome and duration."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("devhost.invocations")


def log_invocation(name: str, ok: bool, started: float, invocation_id: str) -> None:
    outcome = "Succeeded" if ok else "Failed"
    duration = (time.perf_counter() - started) * 1000
    log.info(
        "Executed 'Functions.%s' (%s, Id=%s, Duration=%.0fms)",
        name,
        outcome,
        invocation_id,
        duration,
    )


def log_failure(name: str, invocation_id: str, exc: BaseException) -> None:
    log.error("Function '%s' (Id=%s) raised", name, invocation_id, exc_info=exc)


@contextmanager
def _logged(name: str, iid: str) -> Iterator[None]:
    """One log line per invocation, with its outcome and duration, as the host writes."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        log_failure(name, iid, exc)
        log_invocation(name, False, started, iid)
        raise
    log_invocation(name, True, started, iid)


def _pool_size() -> int:
    # The worker's own setting; its default is Python's ThreadPoolExecutor default.
    configured = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "").strip()
    return int(configured) if configured.isdigit() else min(32, (os.cpu_count() or 1) + 4)


class Invoker:
    def __init__(self, max_workers: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers or _pool_size(), thread_name_prefix="invoke")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._active = 0
        self._active_lock = threading.Lock()

    @property
    def active(self) -> int:
        """Invocations running now."""
        return self._active

    def _count(self, delta: int) -> None:
        with self._active_lock:
            self._active += delta

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="async-functions", daemon=True
                ).start()
                self._loop = loop
            return self._loop

    def submit(
        self, name: str, function: Callable[..., Any], kwargs: dict[str, Any]
    ) -> Future[Any]:
        """Start one invocation; the future holds its return value or exception."""
        invocation_id = str(uuid.uuid4())
        self._count(1)
        future: Future[Any]
        if inspect.iscoroutinefunction(function):
            coroutine = self._run_async(name, function, kwargs, invocation_id)
            future = asyncio.run_coroutine_threadsafe(coroutine, self._event_loop())
        else:
            future = self._pool.submit(self._run_sync, name, function, kwargs, invocation_id)
        future.add_done_callback(lambda _: self._count(-1))
        return future

    def invoke(self, name: str, function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        return self.submit(name, function, kwargs).result()

    @staticmethod
    def _run_sync(name: str, function: Callable[..., Any], kwargs: dict[str, Any], iid: str) -> Any:
        with _logged(name, iid):
            return function(**kwargs)

    @staticmethod
    async def _run_async(
        name: str, function: Callable[..., Any], kwargs: dict[str, Any], iid: str
    ) -> Any:
        with _logged(name, iid):
            return await function(**kwargs)

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
