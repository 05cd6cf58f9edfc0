# ruff: noqa: E501 - markdown table rows read better unbroken
"""`python -m bench.simulator`: the app learning from simulated visitors, beside the oracle,
uniform random and the control/baseline measured on the same visits in the same run.

- retail: the retail world (demo catalog, else tests/fixtures/sim_catalog.json) driven directly
  over HTTP; the app's share of the oracle's reward at 5,000 and 20,000 decisions (target >= 0.90
  at 20,000). Channel `offers` (POST /api/offers + /api/activity) when the app has those routes,
  else the Personalizer routes with the same world.
- drift: the same world whose tastes change at `--drift-at`; decisions after the change until a
  window of 500 reaches 90% of the oracle again (target <= 2,000).
- tomanna: Tom/Anna through the queue-driven simulator (POST /api/simulations, the `simulate`
  trigger); CTR in the windows ending at 1,000 and 5,000 decisions, for the default policy and for
  Personalizer's `--epsilon 0.2`.
Each part gets a fresh local host (`python -m devhost`) and fresh resources.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from bench import common
from simulator import curve
from simulator.client import AppClient
from simulator.driver import drive
from simulator.retail import DEMO_CATALOG, RetailWorld

FIXTURE_CATALOG = common.ROOT / "tests" / "fixtures" / "sim_catalog.json"
EPSILON = "--cb_explore_adf --epsilon 0.2 -q ::"
API = "/personalizer/v1.0"


def start_host(env: dict[str, str]) -> common.Server:
    port = common.free_port()
    base = f"http://127.0.0.1:{port}/api"
    command = [common.PY, "-m", "devhost", "--port", str(port), "--workers", "1"]
    host = common.Server(command, {**env, "SIMULATOR_BASE_URL": base}, port, "simulator")
    host.wait_healthy()
    return host


def catalog_path() -> Path:
    return DEMO_CATALOG if DEMO_CATALOG.exists() else FIXTURE_CATALOG


def channel_of(host: common.Server) -> str:
    from devstack.learning_line import retail_channel

    return retail_channel(host.session.get(host.url("/openapi.json"), timeout=30).json()["paths"])


def set_policy(host: common.Server, arguments: str) -> None:
    host.session.put(host.url(f"{API}/configurations/policy"),
                     json={"name": "bench", "arguments": arguments}, timeout=30).raise_for_status()  # fmt: skip
    time.sleep(2.5)  # CONFIG_CACHE_SECONDS: the learner reads the stored policy too


def served_retail(
    decisions: int, rate: float, seed: int, drift_at: int, window: int, policy: str | None = None
) -> dict[str, Any]:
    world = RetailWorld(seed, drift_at, catalog=json.loads(catalog_path().read_text()))
    sessions = 2
    visitors = decisions // world.steps_per_visitor(sessions)
    with common.resources() as env:
        host = start_host(env)
        try:
            channel = channel_of(host)
            if policy:
                set_policy(host, policy)
            client = AppClient(host.base)
            started = time.monotonic()
            with tqdm(total=visitors * world.steps_per_visitor(sessions), unit="decision",
                      desc=f"retail{' drift' if drift_at else ''} via {channel}") as bar:  # fmt: skip
                rows = drive(world, client, visitors=visitors, sessions=sessions, channel=channel,
                             rate=rate, on_step=lambda _: bar.update())  # fmt: skip
            wall = time.monotonic() - started
        finally:
            host.stop()
    windows = [w.as_dict() for w in curve.windows(rows, window)]
    return {"channel": channel, "catalog": str(catalog_path().relative_to(common.ROOT)),
            "policy": policy or "default (synthcover)",
            "decisions": len(rows), "seconds": round(wall, 1), "window": window,
            "windows": windows}  # fmt: skip


def share_at(windows: list[dict[str, Any]], end: int) -> dict[str, float] | None:
    match = next((w for w in windows if w["window"] == end), None)
    if match is None:
        return None
    oracle = match["oracle"] or 1.0
    return {k: round(match[k] / oracle, 3) for k in ("app", "random", "control")}


def recovery(windows: list[dict[str, Any]], drift_at: int, share: float = 0.9) -> int | None:
    for w in windows:
        if w["window"] - w["decisions"] >= drift_at and w["app"] >= share * w["oracle"]:
            return int(w["window"] - drift_at)
    return None


def queue_tomanna(policy: str | None, decisions: int, rate: float, seed: int) -> dict[str, Any]:
    with common.resources() as env:
        host = start_host(env)
        try:
            session = requests.Session()
            if policy:
                set_policy(host, policy)
            body: dict[str, Any] = {"scenario": "tomanna", "visitors": decisions, "sessionsPerVisitor": 1,
                    "seed": seed, "rate": rate, "window": 1000}  # fmt: skip
            run = session.post(host.url("/simulations"), json=body, timeout=30).json()
            status = run
            started = time.monotonic()
            with tqdm(
                total=decisions, unit="decision", desc=f"tomanna queue {policy or 'default'}"
            ) as bar:
                while (
                    status["status"] == "running"
                    and time.monotonic() - started < decisions / rate * 3 + 120
                ):
                    time.sleep(2)
                    status = session.get(host.url(f"/simulations/{run['id']}"), timeout=30).json()
                    bar.update(status["decisions"] - bar.n)
            wall = time.monotonic() - started
        finally:
            host.stop()
    ctr = {str(w["window"]): w["observed"] for w in status["windows"]}
    return {"policy": policy or "default (synthcover)", "status": status["status"],
            "decisions": status["decisions"], "seconds": round(wall, 1),
            "ctr": ctr, "windows": status["windows"]}  # fmt: skip


def _share(window: dict[str, Any]) -> float:
    return float(window["app"]) / float(window["oracle"] or 1.0)


def report(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = ["## Simulated shoppers (`python -m bench.simulator`)", "",
             f"- Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; {result['date']}",
             f"- Command: `{result['command']}`"
             + (f" (parts not rerun: from `{result['earlier']}`)" if result.get("earlier") else ""), ""]  # fmt: skip
    retail = result.get("retail")
    if retail:
        lines += [f"Retail world ({retail['catalog']}, channel `{retail['channel']}`, {retail['decisions']:,} decisions at {result['rate']:g}/s, windows of {retail['window']}): share of the oracle's expected reward on the same visits.", "",
                  "| decisions | app | uniform random | control/baseline |", "|---:|---:|---:|---:|"]  # fmt: skip
        for end in (5_000, 20_000):
            s = share_at(retail["windows"], end)
            if s:
                lines.append(
                    f"| {end:,} | {s['app']:.3f} | {s['random']:.3f} | {s['control']:.3f} |"
                )
        lines.append("")
    drifts = [d for d in (result.get("drift"), *result.get("drift_policies", [])) if d]
    if drifts:
        lines += [f"Drift (every segment's and time of day's favourite changes at {result['drift_at']:,}; windows of 500): decisions after the change until a window reaches 90% of the oracle (target <= 2,000).", "",
                  "| policy | channel | share of oracle before the change | just after | at the end | decisions to 90% |", "|---|---|---:|---:|---:|---:|"]  # fmt: skip
        for d in drifts:
            rec = recovery(d["windows"], result["drift_at"])
            ws = d["windows"]
            before = next(w for w in ws if w["window"] == result["drift_at"])
            after = next(w for w in ws if w["window"] - w["decisions"] >= result["drift_at"])
            lines.append(f"| {d.get('policy', 'default (synthcover)')} | {d['channel']} | {_share(before):.3f} | {_share(after):.3f} | {_share(ws[-1]):.3f} | "
                         + (f"**{rec:,}**" if rec is not None else f"not within {d['decisions'] - result['drift_at']:,}") + " |")  # fmt: skip
        lines += ["", "Channel `offers` rewards through `/api/activity`: under `earliest` aggregation the app learns from the first event of a visit (the click, 0.2), not the purchase; `offers-reward` sends the visit's value (deepest stage) to the reward route. The drift runs ran on a machine at load 10-19 (others' test runs), 7-30 decisions/s.", ""]  # fmt: skip
    tom = result.get("tomanna")
    if tom:
        lines += ["Tom/Anna through the queue-driven simulator (windows of 1,000; CTR = clicks per decision):", "",
                  "| policy | CTR at 1,000 | CTR at 5,000 | decisions | seconds |", "|---|---:|---:|---:|---:|"]  # fmt: skip
        for t in tom:
            lines.append(
                f"| {t['policy']} | {t['ctr'].get('1000', float('nan')):.3f} | {t['ctr'].get('5000', float('nan')):.3f} | {t['decisions']:,} | {t['seconds']:g} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--parts", nargs="+", default=["retail", "drift", "tomanna"],
                        choices=["retail", "drift", "tomanna"], help="what to run")  # fmt: skip
    parser.add_argument("--decisions", type=int, default=20_000, help="retail decisions")
    parser.add_argument("--drift-at", type=int, default=8_000, help="drift point (drift part)")
    parser.add_argument(
        "--drift-decisions", type=int, default=14_000, help="decisions of the drift part"
    )
    parser.add_argument("--tomanna-decisions", type=int, default=5_000, help="per policy")
    parser.add_argument("--rate", type=float, default=100.0, help="direct decisions/s")
    parser.add_argument("--queue-rate", type=float, default=50.0, help="queue run decisions/s")
    parser.add_argument(
        "--drift-policy",
        nargs="*",
        default=[],
        help="also run the drift part with these VW policies",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--from-results", action="store_true",
                        help="do not run: rewrite the report from bench/results/simulator.json")  # fmt: skip
    args = parser.parse_args(argv)
    if args.from_results:
        _publish(common.load_results("simulator") or {}, args.write)
        return
    result: dict[str, Any] = {"machine": common.machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "command": "python -m bench.simulator " + " ".join(argv or []),
                              "rate": args.rate, "drift_at": args.drift_at}  # fmt: skip
    if "retail" in args.parts:
        result["retail"] = served_retail(args.decisions, args.rate, args.seed, 0, 1_000)
    if "drift" in args.parts:
        result["drift"] = served_retail(
            args.drift_decisions, args.rate, args.seed, args.drift_at, 500
        )
    if "drift" in args.parts and args.drift_policy:
        result["drift_policies"] = [
            served_retail(args.drift_decisions, args.rate, args.seed, args.drift_at, 500, p)
            for p in args.drift_policy
        ]
    if "tomanna" in args.parts:
        result["tomanna"] = [
            queue_tomanna(p, args.tomanna_decisions, args.queue_rate, args.seed)
            for p in (None, EPSILON)
        ]
    previous = common.load_results("simulator") or {}
    for part in ("retail", "drift", "drift_policies", "tomanna"):  # keep the parts not rerun
        if part not in result and part in previous:
            result[part] = previous[part]
            result.setdefault("earlier", previous.get("command"))
    common.save_results("simulator", result)
    _publish(result, args.write)


def _publish(result: dict[str, Any], write: bool) -> None:
    text = report(result)
    print(text)
    if write:
        from bench.report import write_section

        write_section("simulator", text)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
