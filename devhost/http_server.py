"""The HTTP side: uvicorn in a child process (so `--workers N` works), serving devhost.asgi."""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from devhost import asgi

log = logging.getLogger(__name__)

PARENT_ENV = "DEVHOST_PARENT_PID"


@dataclass(frozen=True)
class HttpOptions:
    app: str
    settings: str
    host_json: str
    host: str
    port: int
    workers: int
    log_level: str = "warning"


def _fastest(module: str, choice: str) -> str:
    # uvloop/httptools are absent on Windows: fall back rather than fail.
    return choice if importlib.util.find_spec(module) else "auto"


def command(options: HttpOptions) -> list[str]:
    return [
        sys.executable, "-m", "devhost.http_server", "devhost.asgi:create_app", "--factory",
        "--host", options.host, "--port", str(options.port),
        "--workers", str(options.workers),
        "--http", _fastest("httptools", "httptools"),
        "--loop", _fastest("uvloop", "uvloop"),
        "--no-access-log", "--log-level", options.log_level,
    ]  # fmt: skip


def _die_with_parent() -> None:
    """Linux: this process gets SIGTERM when devhost dies, even by SIGKILL."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if os.getppid() != int(os.environ.get(PARENT_ENV, os.getppid())):
        sys.exit("devhost exited before its HTTP server started")


def child_main() -> None:
    """`python -m devhost.http_server <uvicorn arguments>`: uvicorn, tied to devhost's life."""
    _die_with_parent()
    from uvicorn.main import main

    main()


def start(options: HttpOptions) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env[asgi.APP_ENV] = options.app
    env[asgi.SETTINGS_ENV] = options.settings
    env[asgi.HOST_JSON_ENV] = options.host_json
    env[PARENT_ENV] = str(os.getpid())
    # Own session: devhost alone decides when it stops (Ctrl-C reaches devhost, which stops it).
    return subprocess.Popen(command(options), env=env, start_new_session=True)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # uvicorn shuts down gracefully and stops its workers
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("HTTP server did not stop within %.0fs; killing it", timeout)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    child_main()
