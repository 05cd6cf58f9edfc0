"""devhost queue triggers against real Azurite: retries, poison, delete on success, encodings."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator

import pytest
from azure.storage.queue import QueueClient

from devhost.host_config import QueueOptions
from devhost.invoker import Invoker
from devhost.queue_runner import QueueRunner
from tests.fixtures.devhost_app import RECORD
from tests.fixtures.devhost_support import AZURITE, count, queues, spec, unique, wait_until

# host.json semantics with short timings: retries become visible at once, polls stay quick.
FAST = QueueOptions(visibility_timeout=0, max_polling_interval=0.2)


@pytest.fixture(autouse=True)
def _clean_record() -> Iterator[None]:
    RECORD.reset()
    yield
    RECORD.reset()


def _runner(name: str, options: QueueOptions = FAST) -> QueueRunner:
    runner = QueueRunner(spec(name), options, Invoker(), lease_seconds=10, shutdown_grace=2)
    runner.start()
    return runner


def _poison(name: str) -> QueueClient:
    return QueueClient.from_connection_string(AZURITE, f"{name}-poison")


def _stop(runner: QueueRunner) -> None:
    runner.stop()
    assert runner.join(5)
    runner.invoker.close()


def test_failing_message_is_poisoned_after_exactly_five_dequeues(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique("dh-fail")
    monkeypatch.setenv("DEVHOST_TEST_FAIL_QUEUE", name)
    with queues(name) as (queue,):
        queue.send_message(base64.b64encode(b"doomed").decode())
        runner = _runner("always_fails")
        try:
            poison = _poison(name)
            wait_until(lambda: count(poison) == 1, timeout=15)
            time.sleep(0.5)  # a sixth attempt, if there were one, would show up now
        finally:
            _stop(runner)
        assert RECORD.get("always_fails") == [1, 2, 3, 4, 5]
        assert count(queue) == 0
        moved = list(poison.receive_messages())
        assert [m.content for m in moved] == [base64.b64encode(b"doomed").decode()]


def _dequeue(queue: QueueClient, times: int) -> None:
    """Receive and release the only message `times` times, as failed attempts would."""
    for _ in range(times):
        (message,) = queue.receive_messages(max_messages=1, visibility_timeout=30)
        queue.update_message(message.id, message.pop_receipt, visibility_timeout=0)


def test_fifth_failure_poisons_at_once_without_waiting_for_visibility(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique("dh-fifth")
    monkeypatch.setenv("DEVHOST_TEST_FAIL_QUEUE", name)
    with queues(name) as (queue,):
        queue.send_message(base64.b64encode(b"fifth").decode())
        _dequeue(queue, 4)
        # A retry would stay invisible for 60 s: only an immediate move passes in time.
        runner = _runner(
            "always_fails", QueueOptions(visibility_timeout=60, max_polling_interval=0.2)
        )
        try:
            wait_until(lambda: count(_poison(name)) == 1, timeout=5)
        finally:
            _stop(runner)
        assert RECORD.get("always_fails") == [5]
        assert count(queue) == 0


def test_message_over_the_limit_is_poisoned_without_an_invocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dequeued five times already (say by hosts that crashed): the host does not run it again."""
    name = unique("dh-over")
    monkeypatch.setenv("DEVHOST_TEST_FAIL_QUEUE", name)
    with queues(name) as (queue,):
        queue.send_message(base64.b64encode(b"over").decode())
        _dequeue(queue, 5)
        runner = _runner("always_fails")
        try:
            wait_until(lambda: count(_poison(name)) == 1, timeout=5)
        finally:
            _stop(runner)
        assert RECORD.get("always_fails") == []
        assert count(queue) == 0


@pytest.mark.parametrize("encoding", ["base64", "none"])
def test_succeeding_message_is_processed_once_and_deleted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    name = unique("dh-ok")
    monkeypatch.setenv("DEVHOST_TEST_OK_QUEUE", name)
    body = "ünïcode body"
    wire = base64.b64encode(body.encode()).decode() if encoding == "base64" else body
    caplog.set_level(logging.INFO, logger="devhost.invocations")
    with queues(name) as (queue,):
        queue.send_message(wire)
        runner = _runner(
            "records_messages", QueueOptions(max_polling_interval=0.2, message_encoding=encoding)
        )
        try:
            wait_until(lambda: RECORD.get("records_messages"), timeout=10)
            wait_until(lambda: count(queue) == 0, timeout=5)
            time.sleep(0.5)
        finally:
            _stop(runner)
        calls = RECORD.get("records_messages")
        assert [(c[0], c[1]) for c in calls] == [(body.encode(), 1)]
        assert count(queue) == 0
    assert "Executed 'Functions.records_messages' (Succeeded" in caplog.text


def test_message_that_is_not_base64_counts_as_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique("dh-bad")
    monkeypatch.setenv("DEVHOST_TEST_OK_QUEUE", name)
    with queues(name) as (queue,):
        queue.send_message("not base64 at all!")
        runner = _runner("records_messages")
        try:
            poison = _poison(name)
            wait_until(lambda: count(poison) == 1, timeout=15)
        finally:
            _stop(runner)
        assert RECORD.get("records_messages") == []  # never invoked, as in the host
        assert count(queue) == 0


def test_batch_of_messages_runs_concurrently_and_all_are_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique("dh-many")
    monkeypatch.setenv("DEVHOST_TEST_OK_QUEUE", name)
    with queues(name) as (queue,):
        for i in range(40):
            queue.send_message(base64.b64encode(f"m{i}".encode()).decode())
        runner = _runner("records_messages")
        try:
            wait_until(lambda: len(RECORD.get("records_messages")) >= 40, timeout=15)
            wait_until(lambda: count(queue) == 0, timeout=5)
        finally:
            _stop(runner)
        bodies = sorted(c[0] for c in RECORD.get("records_messages"))
        assert bodies == sorted(f"m{i}".encode() for i in range(40))
