"""`make run` shows the app learning: start a modest simulator run in the running app and print
one line every few seconds (decisions, the last window's reward beside random and the oracle on
the same visits, model version, learning lag), until the run ends or the user stops.

`python -m devstack learn [--url ...]` does the same against any running host.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "http://127.0.0.1:7071/api"
CATALOG = ROOT / "shared" / "demo" / "catalog.json"


def _call(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"null")


def choose_run(base_url: str, rate: float) -> dict[str, Any]:
    """Retail through the offers API when the app has it and the demo catalog exists (rewards as
    activity, or through the reward route while there is no activity route); retail through
    rank/reward with the catalog only; else Tom/Anna."""
    paths = (_call(f"{base_url}/openapi.json") or {}).get("paths", {})
    if CATALOG.exists():
        scenario, channel, sessions = "retail", retail_channel(paths), 2
    else:
        scenario, channel, sessions = "tomanna", "rank", 3
    return {
        "scenario": scenario,
        "channel": channel,
        "visitors": 5_000,
        "sessionsPerVisitor": sessions,
        "seed": int(time.time()) % 1000,
        "rate": rate,
        "thinkSeconds": 1,
        "window": 300,
    }


def retail_channel(paths: dict[str, Any]) -> str:
    if "/api/offers" not in paths:
        return "rank"
    return "offers" if "/api/activity" in paths else "offers-reward"


def line(status: dict[str, Any], health: dict[str, Any] | None) -> str:
    last = status.get("lastWindow") or {}
    learning = (health or {}).get("learning") or {}
    lag = (learning.get("lagSeconds") or {}).get("p50")
    window = (
        f"reward {last['app']:.3f} in the last {last['decisions']}"
        f" (random {last['random']:.3f}, oracle {last['oracle']:.3f})"
        if last
        else "reward: first window filling"
    )
    return (
        f"learning: {status['decisions']:,} decisions, {window} | model"
        f" v{learning.get('modelVersion', 0)}, {learning.get('eventsLearned', 0):,} learned"
        + (f", lag p50 {lag:.1f} s" if lag is not None else "")
    )


def follow(
    base_url: str = DEFAULT_URL,
    rate: float = 20.0,
    every: float = 5.0,
    stop: threading.Event | None = None,
) -> None:
    """Start a run and print the learning line every `every` seconds until it ends or `stop`."""
    stop = stop or threading.Event()
    body = choose_run(base_url, rate)
    run = _call(f"{base_url}/simulations", "POST", body)
    if not run or "id" not in run:
        print(f"simulator: could not start a run: {run}")
        return
    print(
        f"simulator: run {run['id']} ({body['scenario']} via {body['channel']}, {rate:g}"
        f" decisions/s); status: GET /api/simulations/{run['id']}"
    )
    finished = False
    try:
        while not finished and not stop.wait(every):
            status = _call(f"{base_url}/simulations/{run['id']}")
            if not status or "decisions" not in status:
                continue
            print(line(status, _call(f"{base_url}/health")), flush=True)
            if status["status"] != "running":
                print(f"simulator: run {run['id']} {status['status']}")
                finished = True
    except OSError as exc:  # the host went away (Ctrl-C stops it first)
        print(f"simulator: stopped following ({exc})")
        finished = True
    finally:
        if not finished:  # stopped by the user: stop the run too
            try:
                _call(f"{base_url}/simulations/{run['id']}", "DELETE")
            except OSError:
                pass


def start_in_background(base_url: str, rate: float) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=follow, args=(base_url, rate, 5.0, stop), daemon=True).start()
    return stop


def main(argv: list[str] | None = None, prog: str = "python -m devstack.learning_line") -> None:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Start a simulator run in a running host and print the learning line every"
        " few seconds (Ctrl-C stops the run).",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"API root (default {DEFAULT_URL})")
    parser.add_argument("--rate", type=float, default=20.0, help="decisions/s (default 20)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between lines")
    args = parser.parse_args(argv)
    try:
        follow(args.url, args.rate, args.every)
    except KeyboardInterrupt:
        print("stopped")


if __name__ == "__main__":
    main()
