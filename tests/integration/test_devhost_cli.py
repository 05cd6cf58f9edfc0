"""`python -m devhost` end to end: HTTP through uvicorn workers, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fixtures.devhost_support import queues, unique, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=2)
    except requests.RequestException:
        return None


def test_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devhost", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--workers" in result.stdout and "--no-http" in result.stdout


def test_serves_http_through_workers_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DEVHOST_TEST_FAIL_QUEUE": unique("dh-cli-fail"),
        "DEVHOST_TEST_OK_QUEUE": unique("dh-cli-ok"),
        "DEVHOST_TEST_HUB": unique("dhclihub"),
    }
    log = tmp_path / "devhost.log"
    hub_queue = f"hub-{env['DEVHOST_TEST_HUB']}"
    with (
        queues(env["DEVHOST_TEST_FAIL_QUEUE"], env["DEVHOST_TEST_OK_QUEUE"], hub_queue),
        open(log, "wb") as out,
    ):
        # the generic host's routePrefix rule, with the Functions default prefix (this app's own
        # host.json uses "" so that its web pages are served at /)
        config = json.loads((ROOT / "host.json").read_text())
        config["extensions"]["http"]["routePrefix"] = "api"
        host_json = tmp_path / "host.json"
        host_json.write_text(json.dumps(config))
        command = [sys.executable, "-m", "devhost", "--app", "tests.fixtures.devhost_app:app",
                   "--host-json", str(host_json)]  # fmt: skip
        host = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env={**env, "HUB_STANDIN_QUEUE_PREFIX": "hub-"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            ping = wait_until(lambda: _get(f"{base}/api/ping"), timeout=30, interval=0.2)
            assert ping.status_code == 200, log.read_text()
            assert ping.json() == {"pong": True}
            plain = requests.get(f"{base}/api/plain/world", timeout=5)
            assert (plain.status_code, plain.text) == (200, "hello world")
            assert requests.get(f"{base}/outside-the-prefix", timeout=5).status_code == 404
            assert requests.get(f"{base}/api/nothing-here", timeout=5).status_code == 404
            host.send_signal(signal.SIGTERM)
            assert host.wait(timeout=20) == 0
        finally:
            if host.poll() is None:
                os.killpg(host.pid, signal.SIGKILL)
                host.wait()
    # The HTTP child (uvicorn and its workers) went with it.
    time.sleep(0.3)
    assert not _port_open(port)
    text = log.read_text()
    assert "plain_hello: [GET] http://localhost:" in text
    assert "Executed 'Functions.plain_hello' (Succeeded" in text
    assert "Host stopped" in text


def test_http_server_does_not_outlive_a_killed_devhost() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "devhost", "--app", "tests.fixtures.devhost_app:app"]
    env = {
        **os.environ,
        "DEVHOST_TEST_FAIL_QUEUE": unique("dh-kill-fail"),
        "DEVHOST_TEST_OK_QUEUE": unique("dh-kill-ok"),
        "DEVHOST_TEST_HUB": unique("dhkillhub"),
        "HUB_STANDIN_QUEUE_PREFIX": "hub-",
    }
    with queues(
        env["DEVHOST_TEST_FAIL_QUEUE"],
        env["DEVHOST_TEST_OK_QUEUE"],
        f"hub-{env['DEVHOST_TEST_HUB']}",
    ):
        host = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(lambda: _get(f"http://127.0.0.1:{port}/api/ping"), timeout=30, interval=0.2)
        finally:
            host.kill()  # SIGKILL: devhost gets no chance to stop its child
            host.wait()
        wait_until(lambda: not _port_open(port), timeout=10, interval=0.2)
