"""Start and stop the local stack: Azurite, the Cosmos DB emulator and the local host (devhost).

Used by the Makefile (`make run`, `make up`, `make down`, `make status`, `make emulators`) and by
the integration tests. Each process
started here is recorded in .run/<name>.pid with its log in .run/<name>.log; a service whose port
already answers is left alone (and not stopped by us), so the commands are idempotent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
BIN = ROOT / "node_modules" / ".bin"
HOST_PORT = int(os.environ.get("DEVHOST_PORT", "7071"))


def base_url() -> str:
    """The local host's API root (routePrefix `api`)."""
    return f"http://127.0.0.1:{HOST_PORT}/api"


@dataclass(frozen=True)
class Service:
    name: str
    ports: tuple[int, ...]
    command: tuple[str, ...]


def emulators() -> list[Service]:
    azurite = (
        str(BIN / "azurite"),
        "--silent",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--location",
        str(ROOT / ".azurite"),
        "--blobHost",
        "127.0.0.1",
        "--queueHost",
        "127.0.0.1",
        "--tableHost",
        "127.0.0.1",
    )
    cosmos = (str(BIN / "cosmosdb-server"), "-p", "8081", "--no-ssl")
    return [
        Service("azurite", (10000, 10001, 10002), azurite),
        Service("cosmos", (8081,), cosmos),
    ]


def point_simulator_at_this_host() -> None:
    """The host's simulated visitors call this host (the port may be DEVHOST_PORT's)."""
    if not os.environ.get("SIMULATOR_BASE_URL"):
        os.environ["SIMULATOR_BASE_URL"] = base_url()


def host_service(workers: int = 2) -> Service:
    command = (sys.executable, "-m", "devhost", "--port", str(HOST_PORT), "--workers", str(workers))
    return Service("host", (HOST_PORT,), command)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _pidfile(name: str) -> Path:
    return RUN_DIR / f"{name}.pid"


def log_tail(name: str, lines: int = 40) -> str:
    path = RUN_DIR / f"{name}.log"
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start(service: Service, timeout: float = 60.0) -> bool:
    """Start `service` in the background unless its ports answer; True if we started it."""
    if all(port_open(p) for p in service.ports):
        return False
    if not Path(service.command[0]).exists() and service.command[0] != sys.executable:
        raise SystemExit(f"{service.command[0]} is missing: run `npm ci` (make does it for you)")
    RUN_DIR.mkdir(exist_ok=True)
    (ROOT / ".azurite").mkdir(exist_ok=True)
    log = open(RUN_DIR / f"{service.name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        service.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    _pidfile(service.name).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not all(port_open(p) for p in service.ports):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"{service.name} did not start (exit {proc.poll()}); log tail:\n"
                + log_tail(service.name)
            )
        time.sleep(0.1)
    return True


def stop(name: str, timeout: float = 10.0) -> bool:
    """Stop a process we started (its whole process group); True if one was running."""
    path = _pidfile(name)
    if not path.exists():
        return False
    pid = int(path.read_text().strip() or 0)
    path.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True


def health(timeout: float = 5.0) -> tuple[int, dict[str, object]]:
    url = f"{base_url()}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError as exc:
        return 0, {"error": str(exc)}


def wait_healthy(timeout: float = 120.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    status: int = 0
    body: dict[str, object] = {}
    while time.monotonic() < deadline:
        status, body = health()
        if status == 200:
            return body
        time.sleep(0.5)
    raise SystemExit(
        f"/api/health did not answer 200 within {timeout:.0f}s (last: {status} {body});"
        f" host log tail:\n{log_tail('host')}"
    )


def start_emulators() -> list[str]:
    return [s.name for s in emulators() if start(s)]


# A devhost log line starts with its time; these levels also go to the terminal in `run`.
_LOUD = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) ")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d ")


def tee_host_log(stream: IO[bytes], path: Path, echo: IO[str] = sys.stdout) -> None:
    """Every host line to the log file; warnings, errors (with their tracebacks) also to `echo`.
    The per-invocation lines (a learn tick every second, each simulator step) stay in the file."""
    loud = False
    with path.open("ab") as log:
        for raw in iter(stream.readline, b""):
            log.write(raw)
            log.flush()
            text = raw.decode(errors="replace")
            loud = bool(_LOUD.match(text)) or (loud and not _STAMP.match(text))
            if loud:
                echo.write(text)
                echo.flush()


def simulator_wanted(flag: bool) -> bool:
    """`--no-simulator`, or DEVSTACK_SIMULATOR=0 in the environment, turns it off."""
    return flag and os.environ.get("DEVSTACK_SIMULATOR", "1").strip().lower() not in ("0", "off")


def run_foreground(workers: int, simulate: bool = True, rate: float = 20.0) -> None:
    from devstack import bootstrap, demo, learning_line

    started = start_emulators()
    bootstrap.main([])
    RUN_DIR.mkdir(exist_ok=True)
    point_simulator_at_this_host()
    host = subprocess.Popen(
        host_service(workers).command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert host.stdout is not None
    log_path = RUN_DIR / "host.log"
    threading.Thread(target=tee_host_log, args=(host.stdout, log_path), daemon=True).start()
    try:
        wait_healthy()
        print(json.dumps(health()[1]["dependencies"], indent=2))
        demo.show_it_working(base_url())
        print(
            f"\nrunning: http://localhost:{HOST_PORT}/api  (docs: /api/docs, health: /api/health)"
            f"\nhost log: {log_path.relative_to(ROOT)} (warnings and errors also show here)"
            "\nCtrl-C stops the host and the emulators this command started."
        )
        if simulator_wanted(simulate):
            learning_line.start_in_background(base_url(), rate)
        host.wait()
    except KeyboardInterrupt:
        pass
    finally:
        host.terminate()
        try:
            host.wait(timeout=15)
        except subprocess.TimeoutExpired:
            host.kill()
        for name in started:
            stop(name)
        print(f"stopped host{''.join(', ' + n for n in started)}")


ACTIONS = ("run", "emulators", "up", "down", "status")


def main(argv: list[str] | None = None, prog: str = "python -m devstack.services") -> None:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Start/stop the local stack (Azurite, Cosmos DB emulator, local host).",
    )
    parser.add_argument(
        "action",
        choices=ACTIONS,
        help="run: everything in the foreground, Ctrl-C stops it; emulators: start Azurite +"
        " Cosmos; up: emulators + host in the background, wait for /api/health 200;"
        " down: stop everything started here; status: show what runs",
    )
    parser.add_argument("--workers", type=int, default=2, help="HTTP worker processes (run, up)")
    parser.add_argument(
        "--no-simulator",
        action="store_true",
        help="run: do not start simulated shoppers (DEVSTACK_SIMULATOR=0 does the same)",
    )
    parser.add_argument(
        "--sim-rate", type=float, default=20.0, help="run: simulated decisions/s (default 20)"
    )
    args = parser.parse_args(argv)
    if args.action == "run":
        run_foreground(args.workers, not args.no_simulator, args.sim_rate)
    elif args.action == "emulators":
        started = start_emulators()
        print(f"emulators ready (started: {', '.join(started) or 'none, already running'})")
    elif args.action == "up":
        from devstack import bootstrap

        start_emulators()
        bootstrap.main([])
        point_simulator_at_this_host()
        start(host_service(args.workers), timeout=120)
        body = wait_healthy()
        print(json.dumps(body, indent=2))
        print(f"up: http://localhost:{HOST_PORT}/api (docs: /api/docs); `make down` stops it")
    elif args.action == "down":
        for name in ("host", *(s.name for s in emulators())):
            if stop(name):
                print(f"stopped {name}")
    else:
        for service in [*emulators(), host_service()]:
            state = "up" if all(port_open(p) for p in service.ports) else "down"
            print(f"{service.name:8} {state:5} ports {','.join(map(str, service.ports))}")


if __name__ == "__main__":
    main()
