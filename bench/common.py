"""What every benchmark needs: the machine description, saved results, throwaway resources in the
emulators, and child processes (the local host, uvicorn) that are stopped by their own pid."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # small JSON results, kept with the code
OUT = ROOT / "bench" / "out"  # bulky artefacts (py-spy stacks), git-ignored
RUN_DIR = ROOT / ".run"
PY = sys.executable


# ---------------------------------------------------------------------------------------- machine
def _cpu_model() -> str:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = info.get("model name") or platform.processor() or "unknown"
    if "cpu family" in info and "model" in info:
        name += f" (family {info['cpu family']}, model {info['model']})"
    return name


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    def ver(name: str) -> str:
        try:
            return version(name)
        except Exception:
            return "?"

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "ram_gib": round(_ram_gib(), 1),
        "python": platform.python_version(),
        "vowpalwabbit": ver("vowpalwabbit"),
        "fastapi": ver("fastapi"),
        "uvicorn": ver("uvicorn"),
        "os": f"{platform.system()} {platform.release()}",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": [round(x, 2) for x in load_average()],
    }


# ---------------------------------------------------------------------------------------- results
def save_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def load_results(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())  # type: ignore[no-any-return]


# -------------------------------------------------------------------------------------- resources
def local_settings() -> dict[str, str]:
    from devhost.settings_loader import read_local_settings

    values = read_local_settings(ROOT / "local.settings.json").get("Values", {})
    return {k: str(v) for k, v in values.items()}


def resource_env(tag: str) -> dict[str, str]:
    """Own Cosmos database, blob containers and hub stand-in queues (as the integration tests)."""
    return {
        "COSMOS_DATABASE": f"bench-{tag}",
        "MODELS_CONTAINER": f"models-{tag}",
        "ARCHIVE_CONTAINER": f"archive-{tag}",
        "EVENTS_CONTAINER": f"events-{tag}",
        "HUB_STANDIN_QUEUE_PREFIX": f"b{tag}-",
        "SIMULATOR_QUEUE": f"b{tag}-simulate",  # never the shared `simulate` of a `make run`
        "SIMULATIONS_CONTAINER": f"simulations-{tag}",
    }


def child_env(env: dict[str, str]) -> dict[str, str]:
    """Environment of a child process: local.settings.json under our own resource names."""
    return {**os.environ, **local_settings(), **env}


@contextlib.contextmanager
def using_env(env: dict[str, str]) -> Iterator[None]:
    """Point this process's shared/ clients at `env` (settings and clients are cached)."""
    from shared import wiring

    wanted = {**local_settings(), **env}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    wiring.reset()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        wiring.reset()


def bootstrap(env: dict[str, str]) -> None:
    subprocess.run(
        [PY, "-m", "devstack.bootstrap"],
        cwd=ROOT,
        env=child_env(env),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def drop(env: dict[str, str]) -> None:
    from devstack.bootstrap import drop as drop_resources
    from shared.settings import get_settings

    with using_env(env):
        drop_resources(get_settings())


@contextlib.contextmanager
def resources(keep: bool = False) -> Iterator[dict[str, str]]:
    """Fresh resources for one run, created with `python -m devstack.bootstrap`, dropped after."""
    env = resource_env(uuid.uuid4().hex[:8])
    bootstrap(env)
    try:
        yield env
    finally:
        if not keep:
            drop(env)


# -------------------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """Direct child pids (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """All child processes, recursively."""
    found: list[int] = []
    stack = [pid]
    while stack:
        kids = children(stack.pop())
        found += kids
        stack += kids
    return found


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds per group of pids, the bench process itself and the whole machine."""
    snap = {name: sum(process_cpu_seconds(p) for p in set(pids)) for name, pids in groups.items()}
    snap["bench client"] = process_cpu_seconds(os.getpid())
    snap["machine"] = machine_busy_seconds()
    return snap


def cpu_used(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """Cores used per group over `wall` seconds; `other` is the rest of the machine."""
    used = {name: (after[name] - before[name]) / wall for name in before}
    used["other"] = used["machine"] - sum(v for k, v in used.items() if k != "machine")
    return {k: round(v, 2) for k, v in used.items()}


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat)."""
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _TICK


def pids_matching(needle: str) -> list[int]:
    """Processes whose command line contains `needle` (read-only look at /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class Server:
    """A child process serving HTTP on `port` (own session, so it is stopped as a group)."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, name: str) -> None:
        RUN_DIR.mkdir(exist_ok=True)
        self.port = port
        self.base = f"http://127.0.0.1:{port}/api"
        self.log_path = RUN_DIR / f"bench-{name}-{port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_healthy(self, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                resp = self.session.get(self.url("/health"), timeout=5)
                if resp.status_code == 200:
                    return resp.json()  # type: ignore[no-any-return]
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not healthy within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.session.close()
        self._log.close()


def devhost(env: dict[str, str], workers: int = 1) -> Server:
    """`python -m devhost`: HTTP plus the hub, queue and timer triggers (the whole loop)."""
    port = free_port()
    command = [PY, "-m", "devhost", "--port", str(port), "--workers", str(workers)]
    return Server(command, env, port, "devhost")


def uvicorn(
    env: dict[str, str], workers: int, app: str = "devhost.asgi:create_app", name: str = "uvicorn"
) -> Server:
    """The HTTP app exactly as devhost serves it, without the triggers."""
    port = free_port()
    command = [
        PY, "-m", "uvicorn", app, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return Server(command, env, port, f"{name}-w{workers}")
