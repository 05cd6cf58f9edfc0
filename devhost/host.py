"""The host process: index the app, start one runner per trigger (and the HTTP child), stop it
all cleanly on Ctrl-C / SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from types import FrameType

from devhost import http_server
from devhost.app_index import EVENT_HUB, HTTP, QUEUE, TIMER, AppIndex, FunctionSpec
from devhost.eventhub_runner import EventHubRunner
from devhost.host_config import HostConfig
from devhost.invoker import Invoker
from devhost.queue_runner import QueueRunner
from devhost.runner import Runner
from devhost.settings_loader import SettingMissing, is_disabled, resolve
from devhost.storage import ConnectionMissing
from devhost.timer_runner import TimerRunner

log = logging.getLogger("devhost")

SHUTDOWN_GRACE = 10.0


@dataclass(frozen=True)
class Options:
    http: http_server.HttpOptions | None  # None: --no-http
    hub_lease_seconds: int = 30


def build_runners(
    index: AppIndex, config: HostConfig, invoker: Invoker, hub_lease: int
) -> list[Runner]:
    """One runner per queue/timer function, one per hub; a function in error is left out."""
    runners: list[Runner] = []
    hubs: dict[str, list[FunctionSpec]] = {}
    for spec in index.functions:
        if is_disabled(spec.name):
            log.info("function '%s' is disabled (AzureWebJobs.%s.Disabled)", spec.name, spec.name)
            continue
        try:
            if spec.trigger_type == QUEUE:
                runners.append(
                    QueueRunner(spec, config.queues, invoker, shutdown_grace=SHUTDOWN_GRACE)
                )
            elif spec.trigger_type == TIMER:
                runners.append(TimerRunner(spec, invoker))
            elif spec.trigger_type == EVENT_HUB:
                hubs.setdefault(resolve(spec.trigger["eventHubName"]), []).append(spec)
        except (SettingMissing, ConnectionMissing, LookupError, ValueError) as exc:
            # The host also refuses a function it cannot bind, and runs the others.
            log.error("The '%s' function is in error: %s", spec.name, exc)
    for hub, specs in hubs.items():
        try:
            runners.append(
                EventHubRunner(hub, specs, config.event_hubs, invoker, lease_seconds=hub_lease)
            )
        except (ConnectionMissing, LookupError, ValueError) as exc:
            log.error("Functions %s are in error: %s", [s.name for s in specs], exc)
    return runners


def describe(index: AppIndex, options: Options, config: HostConfig) -> None:
    """The function list `func start` prints."""
    lines = ["Functions:"]
    for spec in index.functions:
        if spec.trigger_type == HTTP:
            route = str(spec.trigger.get("route") or spec.name).strip("/")
            path = "/".join(p for p in (config.route_prefix, route) if p)
            where = (
                f"http://localhost:{options.http.port}/{path}" if options.http else "(--no-http)"
            )
            methods = ",".join(spec.trigger.get("methods") or ["*"])
            lines.append(f"  {spec.name}: [{methods}] {where}")
        else:
            lines.append(f"  {spec.name}: {spec.trigger_type}")
    for name in index.skipped:
        lines.append(f"  {name}: (not run by devhost)")
    log.info("\n".join(lines))


class Host:
    def __init__(self, index: AppIndex, config: HostConfig, options: Options) -> None:
        self.index = index
        self.config = config
        self.options = options
        self.invoker = Invoker()
        self.runners: list[Runner] = []
        self.http: subprocess.Popen[bytes] | None = None
        self.stop_requested = threading.Event()
        self._signals = 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:  # a second Ctrl-C: do not wait for running functions
            log.warning("forced exit")
            if self.http is not None and self.http.poll() is None:
                os.killpg(self.http.pid, signal.SIGKILL)
            os._exit(130)
        log.info("stopping (signal %s); press Ctrl-C again to force", signal.Signals(signum).name)
        self.stop_requested.set()

    def run(self) -> int:
        """Blocks until a signal or a dead HTTP server; returns the exit code."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        describe(self.index, self.options, self.config)
        code = 0
        if self.options.http is not None and self.index.of_type(HTTP):
            self.http = http_server.start(self.options.http)
        self.runners = build_runners(
            self.index, self.config, self.invoker, self.options.hub_lease_seconds
        )
        for runner in self.runners:
            runner.start()
        log.info("Host started (%d trigger runner(s))", len(self.runners))
        while not self.stop_requested.wait(0.5):
            if self.http is not None and self.http.poll() is not None:
                log.error("HTTP server exited with code %s; stopping", self.http.returncode)
                code = 1
                break
        self.shutdown()
        return code

    def shutdown(self) -> None:
        for runner in self.runners:
            runner.stop()
        if self.http is not None:
            http_server.stop(self.http)
        deadline = time.monotonic() + SHUTDOWN_GRACE + 2
        for runner in self.runners:
            if not runner.join(max(0.0, deadline - time.monotonic())):
                log.warning("%s did not stop in time (a function still running)", runner.name)
        self.invoker.close(wait=False)
        log.info("Host stopped")
