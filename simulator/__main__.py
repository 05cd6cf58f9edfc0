"""`python -m simulator COMMAND`: simulated shoppers against the app, and their learning curve.

drive      play visitors against a base URL from this process (no queue), with a progress bar;
           print the learning curve, save it as CSV and PNG
start      start a queue-driven run in the app (POST /api/simulations); --watch follows it
status     a queue-driven run's progress and reward (GET /api/simulations/{id})
stop       stop a queue-driven run (DELETE /api/simulations/{id})
evaluate   the world alone: oracle, uniform random, baseline and best fixed action (no app)
scenarios  the scenarios and what they model
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from simulator.client import CHANNELS
from simulator.scenarios import SCENARIOS, build_world

DEFAULT_URL = "http://127.0.0.1:7071/api"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("SIMULATOR_BASE_URL") or DEFAULT_URL,
        help=f"the app's API root (default $SIMULATOR_BASE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--key",
        default=os.environ.get("SIMULATOR_API_KEY", ""),
        help="API key sent as Ocp-Apim-Subscription-Key (default $SIMULATOR_API_KEY)",
    )


def _world_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="tomanna", choices=list(SCENARIOS), help="world")
    parser.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    parser.add_argument("--visitors", type=int, default=1000, help="visitors (default 1000)")
    parser.add_argument("--sessions", type=int, default=1, help="sessions per visitor (default 1)")
    parser.add_argument(
        "--drift-at", type=int, default=None, help="visits between taste changes (0: never)"
    )


def _output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", type=int, default=500, help="decisions per curve window")
    parser.add_argument(
        "--out", type=Path, default=Path(".run/simulator"), help="directory for CSV and PNG"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    drive = commands.add_parser("drive", help="traffic from this process, no queue")
    _common(drive)
    _world_args(drive)
    drive.add_argument(
        "--channel",
        choices=CHANNELS,
        default=None,
        help="offers: POST /api/offers + /api/activity; offers-reward: /api/offers + the reward"
        " route; rank: the Personalizer routes (default: the scenario's)",
    )
    drive.add_argument("--rate", type=float, default=100.0, help="decisions/s (0: unpaced)")
    drive.add_argument("--workers", type=int, default=1, help="concurrent visitors (default 1)")
    _output_args(drive)

    start = commands.add_parser("start", help="start a queue-driven run in the app")
    _common(start)
    _world_args(start)
    start.add_argument("--channel", choices=CHANNELS, default=None, help="as for drive")
    start.add_argument("--rate", type=float, default=20.0, help="decisions/s (default 20)")
    start.add_argument("--think", type=float, default=1.0, help="seconds between a visitor's pages")
    start.add_argument("--watch", action="store_true", help="follow the run until it ends")
    _output_args(start)

    for name, text in (("status", "a run's progress"), ("stop", "stop a run")):
        sub = commands.add_parser(name, help=text)
        _common(sub)
        sub.add_argument("run_id", help="the run's id (from start)")

    evaluate = commands.add_parser("evaluate", help="oracle vs random on the world alone")
    _world_args(evaluate)

    commands.add_parser("scenarios", help="list the scenarios")
    return parser.parse_args(argv)


def _save(curve: list[Any], out: Path, name: str, title: str) -> None:
    from simulator import curve as curves

    print(curves.table(curve))
    csv_path, png_path = out / f"{name}.csv", out / f"{name}.png"
    curves.write_csv(curve, csv_path)
    curves.plot(curve, png_path, title)
    print(f"saved {csv_path} and {png_path}")


def cmd_drive(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from simulator import curve as curves
    from simulator.client import AppClient
    from simulator.driver import drive

    world = build_world(args.scenario, args.seed, args.drift_at)
    client = AppClient(args.url, args.key)
    total = args.visitors * world.steps_per_visitor(args.sessions)
    with tqdm(total=total, unit="decision", desc=args.scenario) as bar:
        rows = drive(
            world,
            client,
            visitors=args.visitors,
            sessions=args.sessions,
            channel=args.channel,
            rate=args.rate,
            workers=args.workers,
            on_step=lambda _: bar.update(),
        )
    curve = curves.windows(rows, args.window)
    name = f"{args.scenario}-seed{args.seed}"
    _save(curve, args.out, name, f"{args.scenario} via {args.channel or world.channel}")


def _client(args: argparse.Namespace) -> Any:
    from simulator.client import AppClient

    return AppClient(args.url, args.key)


def cmd_start(args: argparse.Namespace) -> None:
    client = _client(args)
    body = {
        "scenario": args.scenario,
        "visitors": args.visitors,
        "sessionsPerVisitor": args.sessions,
        "seed": args.seed,
        "rate": args.rate,
        "thinkSeconds": args.think,
    }
    if args.drift_at is not None:
        body["driftAt"] = args.drift_at
    if args.channel:
        body["channel"] = args.channel
    run = client.session.post(f"{client.base}/simulations", json=body, timeout=30)
    if run.status_code != 201:
        sys.exit(f"POST /simulations -> {run.status_code}: {run.text}")
    status = run.json()
    print(f"started run {status['id']}: {status['expectedDecisions']} decisions")
    if not args.watch:
        return
    from tqdm import tqdm

    with tqdm(total=status["expectedDecisions"], unit="decision") as bar:
        while status["status"] == "running":
            time.sleep(2)
            status = client.get_json(f"/simulations/{status['id']}")
            bar.update(status["decisions"] - bar.n)
            bar.set_postfix_str(learning_line(status))
    from simulator.curve import Window

    curve = [Window(**{k: w[k] for k in Window.__dataclass_fields__}) for w in status["windows"]]
    _save(curve, args.out, f"run-{status['id']}", f"{args.scenario} (queue run)")


def learning_line(status: dict[str, Any]) -> str:
    last = status.get("lastWindow") or {}
    return (
        f"{status['decisions']} decisions; last window reward {last.get('app', 0):.3f}"
        f" (random {last.get('random', 0):.3f}, oracle {last.get('oracle', 0):.3f})"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "drive":
        cmd_drive(args)
    elif args.command == "start":
        cmd_start(args)
    elif args.command in ("status", "stop"):
        client = _client(args)
        method = client.session.get if args.command == "status" else client.session.delete
        answer = method(f"{client.base}/simulations/{args.run_id}", timeout=30)
        print(json.dumps(answer.json(), indent=2))
        if answer.status_code >= 400:
            sys.exit(1)
    elif args.command == "evaluate":
        from simulator.evaluate import evaluate

        world = build_world(args.scenario, args.seed, args.drift_at)
        print(json.dumps(evaluate(world, args.visitors, args.sessions).as_dict()))
    else:
        for scenario in SCENARIOS.values():
            print(f"{scenario.name:14} {scenario.description}")


if __name__ == "__main__":
    main(sys.argv[1:])
