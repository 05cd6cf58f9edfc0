"""`make run`'s terminal: host lines go to the log file (warnings and errors also to the
terminal), and the learning line says what a new user needs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from devstack import learning_line, services

HOST_OUTPUT = b"""2026-11-23 05:00:00,001 INFO    functions.learn_timer: learn: learned 40
2026-11-23 05:00:00,002 WARNING devhost.queue_runner: Message 1 has reached MaxDequeueCount
2026-11-23 05:00:01,003 ERROR   devhost.invoker: function 'simulate' failed
Traceback (most recent call last):
  File "x.py", line 1, in f
ValueError: boom
2026-11-23 05:00:02,004 INFO    devhost: invocation done
"""


def test_host_lines_go_to_the_file_and_only_warnings_and_errors_to_the_terminal(
    tmp_path: Path,
) -> None:
    terminal = io.StringIO()
    log = tmp_path / "host.log"
    services.tee_host_log(io.BytesIO(HOST_OUTPUT), log, terminal)
    assert log.read_bytes() == HOST_OUTPUT
    shown = terminal.getvalue().splitlines()
    assert len(shown) == 5
    assert "MaxDequeueCount" in shown[0] and "ERROR" in shown[1] and shown[-1] == "ValueError: boom"
    assert not any("INFO" in s for s in shown)


def test_the_simulator_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVSTACK_SIMULATOR", raising=False)
    assert services.simulator_wanted(True) and not services.simulator_wanted(False)
    monkeypatch.setenv("DEVSTACK_SIMULATOR", "0")
    assert not services.simulator_wanted(True)


def test_the_learning_line() -> None:
    status = {
        "decisions": 12_345,
        "lastWindow": {"app": 0.71234, "random": 0.142857, "oracle": 1.0, "decisions": 300},
    }
    health = {
        "learning": {"modelVersion": 42, "eventsLearned": 11_900, "lagSeconds": {"p50": 2.94}}
    }
    text = learning_line.line(status, health)
    assert text == (
        "learning: 12,345 decisions, reward 0.712 in the last 300 (random 0.143, oracle 1.000)"
        " | model v42, 11,900 learned, lag p50 2.9 s"
    )
    early = learning_line.line({"decisions": 10, "lastWindow": None}, None)
    assert "first window filling" in early and "model v0" in early
