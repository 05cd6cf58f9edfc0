"""Integration fixtures: the real emulators, isolated resource names per test, and a live host.

Every test that touches storage gets its own Cosmos database, blob containers and hub queues (a
random tag), so tests neither see each other's data nor the data of a running `make run`. The
emulators fixture applies to tests/integration only, so tests/unit runs without them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
import requests

from devstack import services
from shared import wiring
from tests.conftest import ROOT, reset_caches

__all__ = [
    "LiveHost",
    "bootstrap_resources",
    "drop_resources",
    "free_port",
    "hosted",
    "load_demo_catalog",
    "reset_caches",
    "resource_env",
]


def resource_env(tag: str, **overrides: str) -> dict[str, str]:
    """Settings that point the app at its own database, containers and queues."""
    env = {
        "COSMOS_DATABASE": f"test-{tag}",
        "MODELS_CONTAINER": f"models-{tag}",
        "ARCHIVE_CONTAINER": f"archive-{tag}",
        "EVENTS_CONTAINER": f"events-{tag}",
        "HUB_STANDIN_QUEUE_PREFIX": f"t{tag}-",
        "SIMULATOR_QUEUE": f"t{tag}-simulate",  # under the prefix: dropped with the hub queues
        "EVALUATIONS_QUEUE": f"t{tag}-evaluate",
        "SIMULATIONS_CONTAINER": f"simulations-{tag}",
    }
    env.update(overrides)
    return env


def bootstrap_resources() -> None:
    from devstack.bootstrap import create_storage
    from shared.cosmos_store import ensure_schema

    app = wiring.current()
    ensure_schema(app.cosmos_client, app.settings.cosmos_database)
    create_storage(app.settings)


def drop_resources(env: dict[str, str]) -> None:
    """Delete the resources named by `env` (see resource_env)."""
    from devstack.bootstrap import drop
    from shared.settings import load_settings

    drop(
        replace(
            load_settings(),
            cosmos_database=env["COSMOS_DATABASE"],
            models_container=env["MODELS_CONTAINER"],
            archive_container=env["ARCHIVE_CONTAINER"],
            events_container=env["EVENTS_CONTAINER"],
            hub_standin_queue_prefix=env["HUB_STANDIN_QUEUE_PREFIX"],
            simulations_container=env["SIMULATIONS_CONTAINER"],
        )
    )


@pytest.fixture(scope="session", autouse=True)
def emulators() -> Iterator[None]:
    """Azurite and the Cosmos emulator, started if not running (and stopped if we started them)."""
    started = services.start_emulators()
    yield
    for name in started:
        services.stop(name)


def connection_env() -> dict[str, str]:
    """The storage and Cosmos connection settings now in the environment."""
    names = ("AzureWebJobsStorage", "COSMOS_CONNECTION")
    prefixes = tuple(f"{name}__" for name in names)
    return {k: v for k, v in os.environ.items() if k in names or k.startswith(prefixes)}


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """This test's own resources, created empty, dropped afterwards."""
    env = resource_env(uuid.uuid4().hex[:8])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_caches()
    bootstrap_resources()
    connections = connection_env()
    yield env
    if (app := wiring.built()) is not None:
        # the test's events reach its queues before they are dropped; otherwise the publisher
        # retries against missing queues for the rest of the run (and holds up its exit)
        app.flush_events(timeout=10)
    for key, value in connections.items():  # a test may have broken them on purpose
        monkeypatch.setenv(key, value)
    drop_resources(env)
    reset_caches()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveHost:
    """`python -m devhost` in a subprocess with its own resources: real HTTP, real triggers."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        self.env = env
        self.base = f"http://127.0.0.1:{self.port}/api"
        self.log_path = ROOT / ".run" / f"test-host-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "devhost",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "SIMULATOR_BASE_URL": self.base, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.session = requests.Session()
        self._wait()

    def _wait(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"devhost exited: {self.log_tail()}")
            try:
                if self.session.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"devhost not healthy in {timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


@contextmanager
def resources(**overrides: str) -> Iterator[dict[str, str]]:
    """Resources of their own, named in this process's environment (so `wiring` uses them too)
    until the block ends; then dropped and the environment restored."""
    env = resource_env(uuid.uuid4().hex[:8], **overrides)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    reset_caches()
    try:
        bootstrap_resources()
        yield env
    finally:
        drop_resources(env)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_caches()


@contextmanager
def hosted(prepare: Callable[[], None] | None = None, **overrides: str) -> Iterator[LiveHost]:
    """A live host on its own resources; `prepare` runs (with the environment pointing at them)
    before the host starts, e.g. to load the demo catalog."""
    with resources(**overrides) as env:
        if prepare is not None:
            prepare()
        host = LiveHost(env)
        try:
            yield host
        finally:
            host.stop()


def load_demo_catalog() -> None:
    from shared.catalog import demo

    demo.load(wiring.current().catalog)


@pytest.fixture(scope="module")
def live_host() -> Iterator[LiveHost]:
    """A running local host for a test module, on its own port and resources."""
    with hosted() as host:
        yield host


@pytest.fixture(scope="module")
def shop_host() -> Iterator[LiveHost]:
    """A live host serving the demo catalog."""
    with hosted(load_demo_catalog) as host:
        yield host
