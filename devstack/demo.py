"""Sample calls against a running host: one rank and one reward, so `make run` proves itself.

`python -m devstack.demo [--url http://127.0.0.1:7071/api]` sends them to any running host.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "samples" / "rank-request.json"
DEFAULT_URL = "http://127.0.0.1:7071/api"


def post_json(url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, resp.read()


def show_it_working(base_url: str = DEFAULT_URL, sample: Path = SAMPLE) -> str:
    """Rank the sample request, reward the served action with 1.0; print both; the event id."""
    api = f"{base_url.rstrip('/')}/personalizer/v1.0"
    status, body = post_json(f"{api}/rank", json.loads(sample.read_text()))
    ranked = json.loads(body)
    print(f"POST /api/personalizer/v1.0/rank -> {status}: served {ranked['rewardActionId']}")
    event = str(ranked["eventId"])
    status, _ = post_json(f"{api}/events/{event}/reward", {"value": 1.0})
    print(f"POST /api/personalizer/v1.0/events/{event}/reward -> {status}")
    return event


def main(argv: list[str] | None = None, prog: str = "python -m devstack.demo") -> None:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Send one rank (docs/samples/rank-request.json) and one reward to a running"
        " host and print the answers.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"API root (default {DEFAULT_URL})")
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="rank request body (JSON)")
    args = parser.parse_args(argv)
    show_it_working(args.url, args.sample)


if __name__ == "__main__":
    main()
