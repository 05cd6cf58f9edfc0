"""devhost Event Hub triggers over the local stand-in queue, against real Azurite."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from devhost.eventhub_runner import EventHubRunner
from devhost.host_config import EventHubOptions
from devhost.invoker import Invoker
from shared.events import standin
from tests.fixtures.devhost_app import RECORD
from tests.fixtures.devhost_support import count, queues, spec, unique, wait_until

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = EventHubOptions(max_event_batch_size=40, min_event_batch_size=1, max_wait_time=1)
PREFIX = "hub-"


@pytest.fixture(autouse=True)
def _clean_record(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HUB_STANDIN_QUEUE_PREFIX", PREFIX)
    RECORD.reset()
    yield
    RECORD.reset()


def publish(queue: QueueClient, first: int, last: int, per_message: int = 30) -> None:
    """Events first..last-1 in order, packed `per_message` to a queue message like the publisher."""
    for start in range(first, last, per_message):
        events = [
            standin.StandInEvent(str(i).encode(), f"user-{i % 7}", time.time())
            for i in range(start, min(start + per_message, last))
        ]
        for text in standin.encode(events):
            queue.send_message(text)


def _runner(*names: str, lease: int = 2) -> EventHubRunner:
    hub = os.environ["DEVHOST_TEST_HUB"]
    specs = [spec(n) for n in names]
    runner = EventHubRunner(
        hub, specs, OPTIONS, Invoker(), lease_seconds=lease, max_poll_seconds=0.2
    )
    runner.start()
    return runner


def _stop(runner: EventHubRunner) -> None:
    runner.stop()
    assert runner.join(5)
    runner.invoker.close()


def delivered_bodies() -> list[int]:
    return [int(body) for batch in RECORD.get("hub_batches") for body, _ in batch]


def test_events_arrive_in_order_in_bounded_batches_and_failed_batch_is_checkpointed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hub = unique("dhhub")
    monkeypatch.setenv("DEVHOST_TEST_HUB", hub)
    with queues(standin.queue_name(PREFIX, hub)) as (queue,):
        publish(queue, 0, 250)
        queue.send_message("this is not the stand-in format")
        runner = _runner("hub_batches", "hub_single")
        try:
            wait_until(lambda: len(delivered_bodies()) >= 250, timeout=15)
            wait_until(lambda: len(RECORD.get("hub_single")) >= 250, timeout=10)
            wait_until(lambda: count(queue) == 0, timeout=5)
            time.sleep(2.5)  # longer than the lease: anything not checkpointed would be back
        finally:
            _stop(runner)
        batches = RECORD.get("hub_batches")
        assert len(batches) >= 250 // OPTIONS.max_event_batch_size
        assert all(0 < len(b) <= OPTIONS.max_event_batch_size for b in batches)
        # Every event exactly once and in order, including the batch whose call raised.
        assert delivered_bodies() == list(range(250))
        assert "hub_batches fails one batch on purpose" in caplog.text
        assert "Executed 'Functions.hub_batches' (Failed" in caplog.text
        sequence = [seq for batch in batches for _, seq in batch]
        assert sequence == sorted(set(sequence))
        # A second consumer of the hub (cardinality one) saw every event too, one per call.
        assert [int(b) for b in RECORD.get("hub_single")] == list(range(250))
        assert count(queue) == 0
        poison = QueueClient.from_connection_string(
            "UseDevelopmentStorage=true", f"{queue.queue_name}-poison"
        )
        assert [m.content for m in poison.receive_messages()] == ["this is not the stand-in format"]


def test_events_are_delivered_again_after_a_host_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A devhost killed mid-batch never checkpoints: after the lease the events come back."""
    hub = unique("dhcrash")
    monkeypatch.setenv("DEVHOST_TEST_HUB", hub)
    hang_file = tmp_path / "called"
    env = {
        **os.environ,
        "DEVHOST_TEST_HANG_FILE": str(hang_file),
        "DEVHOST_TEST_FAIL_QUEUE": unique("dh-crash-fail"),
        "DEVHOST_TEST_OK_QUEUE": unique("dh-crash-ok"),
    }
    with queues(
        standin.queue_name(PREFIX, hub),
        env["DEVHOST_TEST_FAIL_QUEUE"],
        env["DEVHOST_TEST_OK_QUEUE"],
    ) as (queue, *_):
        publish(queue, 0, 60)
        command = [sys.executable, "-m", "devhost", "--app", "tests.fixtures.devhost_app:app"]
        host = subprocess.Popen(
            [*command, "--no-http", "--hub-lease", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(hang_file.exists, timeout=20)
        finally:
            os.killpg(host.pid, signal.SIGKILL)  # the crash: no checkpoint, no clean shutdown
            host.wait()
        assert count(queue) > 0  # still there, only invisible
        runner = _runner("hub_batches")
        try:
            wait_until(lambda: len(delivered_bodies()) >= 60, timeout=10)
        finally:
            _stop(runner)
        assert delivered_bodies() == list(range(60))
        assert count(queue) == 0
