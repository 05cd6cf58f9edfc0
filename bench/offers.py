# ruff: noqa: E501 - markdown table rows read better unbroken
"""`python -m bench.offers`: POST /api/offers latency and throughput beside the plain rank route,
in the same run against the same server, so the ratio is what is compared on a shared machine.

One server (`uvicorn devhost.asgi:create_app`, as devhost serves it, triggers off) on fresh
resources with the demo catalog (`python -m devstack.bootstrap`), a trained model saved as the
current one (both routes run VW predict) and activity applied for `--profiles` of the `--users`
visitors (profiles, popularity per segment, co-purchases), so the offers path does its profile
point read, eligibility, candidates from signals, features, rank and the decision publish.
wrk runs alternate between the two routes (and which goes first) for `--rounds` rounds.
Targets (issue 9): offers p99 <= 15 ms and >= 60% of the rank route's requests/s at 8 connections.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import requests
from tqdm import tqdm

from bench import common, rank, report

LUA = common.ROOT / "bench" / "offers.lua"
OFFERS_PATH = "/offers"
TARGET_P99_MS = 15.0
TARGET_RATIO = 0.60
SETTINGS = (
    "PROFILE_TIMEOUT_MS",
    "PROFILE_CACHE_SECONDS",
    "SIGNALS_CACHE_SECONDS",
    "OFFERS_CONTROL_PERCENT",
)
ROUTES = ("rank", "offers", "offers-anonymous")
SEGMENTS = ("family", "tech-enthusiast", "bargain-hunter", "style-seeker")


def seed_activity(env: dict[str, str], users: int, profiles: int, seed: int = 7) -> dict[str, int]:
    """Shopping for the first `profiles` visitors, through the activity consumer in-process (the
    same code the activity hub trigger runs): views and purchases in a favourite category, clicks
    and conversions on offers, baskets of two products."""
    from shared import wiring
    from shared.catalog import demo

    catalog = demo.read()
    by_category: dict[str, list[str]] = {}
    for p in catalog.products:
        by_category.setdefault(p.category, []).append(p.id)
    offer_ids = [o.id for o in catalog.offers]
    rng = random.Random(seed)
    now = time.time()
    events: list[dict[str, Any]] = []

    def add(**event: Any) -> None:
        events.append({"id": f"bench-{len(events)}", "t": now - rng.uniform(60, 86_400), **event})

    for i in range(min(profiles, users)):
        user, segment = f"u-{i}", rng.choice(SEGMENTS)
        favourite = by_category[rng.choice(sorted(by_category))]
        ctx = {"segment": segment}
        for product in rng.sample(favourite, 3):
            add(type="product_view", userId=user, productId=product, context=ctx)
        basket = rng.sample(favourite, 2)
        for product in basket:
            add(type="purchase", userId=user, sessionId=f"s-{i}", productId=product,
                price=30.0, context=ctx)  # fmt: skip
        offer = rng.choice(offer_ids)
        add(type="offer_view", userId=user, offerId=offer, context=ctx)
        add(type="offer_click", userId=user, offerId=offer, context=ctx)
    with common.using_env(env):
        consumer = wiring.current().activity_consumer
        for start in range(0, len(events), 500):
            consumer.consume(orjson.dumps(e) for e in events[start : start + 500])
    return {"events": len(events), "profiles": min(profiles, users)}


def wrk(
    url: str, script: Path, env: dict[str, str], seconds: float, connections: int, threads: int
) -> dict[str, Any]:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
               "-s", str(script), "--latency", url]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}, check=True
    )
    parsed = rank.parse_wrk(done.stdout)
    parsed["raw"] = done.stdout
    return parsed


def probe(server: common.Server, users: int, count: int = 200) -> dict[str, Any]:
    """Answers to a sample of visitors without load: warm vs cold start, arms, degraded reads."""
    rng = random.Random(11)
    answers = []
    for _ in range(count):
        body: dict[str, Any] = {"userId": f"u-{rng.randrange(users)}", "count": 3}
        resp = server.session.post(server.url(OFFERS_PATH), json=body, timeout=30)
        resp.raise_for_status()
        answers.append(resp.json())
    return {
        "requests": count,
        "known": sum(not a["coldStart"] for a in answers),
        "profile_unavailable": sum(a["profileUnavailable"] for a in answers),
        "control": sum(a["arm"] == "control" for a in answers),
        "with_signal_reason": sum(
            any(
                r["code"] in ("affinity", "brand", "popular", "also-bought")
                for o in a["offers"]
                for r in o["explanation"]["candidate"]
            )
            for a in answers
        ),
    }


def run(
    workers: int = 1,
    seconds: float = 10.0,
    warmup: float = 2.0,
    rounds: int = 3,
    connections: int = 8,
    threads: int = 2,
    users: int = 1000,
    profiles: int = 300,
) -> dict[str, Any]:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    from shared.catalog import demo

    body = rank.sample_body()
    data = rank.train_model(body)
    products = ",".join(p.id for p in demo.read().products)
    result: dict[str, Any] = {
        "machine": common.machine(),
        "workers": workers, "seconds": seconds, "warmup": warmup, "rounds": rounds,
        "connections": connections, "threads": threads, "users": users, "profiles": profiles,
        "rank_sample": rank.SAMPLE.name, "rank_actions": len(body["actions"]),
        "policy": rank.POLICY, "targets": {"p99_ms": TARGET_P99_MS, "ratio": TARGET_RATIO},
        "runs": [],
        "settings": {k: common.local_settings().get(k, "") for k in SETTINGS},
    }  # fmt: skip
    steps = 2 + rounds * len(ROUTES)
    with (
        tempfile.TemporaryDirectory() as tmp,
        tqdm(total=steps, desc="offers", unit="step") as bar,
        common.resources() as env,
    ):
        bar.set_postfix_str("model and activity")
        rank.save_model(env, data)
        result["activity"] = seed_activity(env, users, profiles)
        bar.update()
        body_path = Path(tmp) / "rank-body.json"
        body_path.write_text(orjson.dumps(body).decode())
        server = common.uvicorn(env, workers, name="offers")
        try:
            server.wait_healthy()
            rank_url, offers_url = server.url(rank.RANK_PATH), server.url(OFFERS_PATH)
            requests.post(rank_url, json=body, timeout=30).raise_for_status()
            result["probe"] = probe(server, users)
            scripts = {
                "rank": (rank_url, rank.LUA, {"RANK_BODY": str(body_path)}),
                "offers": (offers_url, LUA, {"OFFERS_USERS": str(users), "OFFERS_PRODUCTS": products}),
                "offers-anonymous": (offers_url, LUA, {"OFFERS_USERS": str(users), "OFFERS_PRODUCTS": products, "OFFERS_ANONYMOUS": "1"}),
            }  # fmt: skip
            for url, script, extra in scripts.values():  # warm both (caches, model, connections)
                wrk(url, script, extra, warmup, connections, threads)
            result["load_before"] = list(common.load_average())
            bar.update()
            for round_no in range(rounds):
                order = ROUTES if round_no % 2 == 0 else ROUTES[::-1]
                pair: dict[str, Any] = {"round": round_no + 1, "order": list(order)}
                for which in order:
                    bar.set_postfix_str(f"round {round_no + 1}, {which}")
                    url, script, extra = scripts[which]
                    measured = wrk(url, script, extra, seconds, connections, threads)
                    pair[which] = {k: v for k, v in measured.items() if k != "raw"}
                    pair[f"{which}_raw"] = measured["raw"]
                    bar.update()
                pair["ratio"] = pair["offers"]["rps"] / pair["rank"]["rps"]
                pair["ratio_anonymous"] = pair["offers-anonymous"]["rps"] / pair["rank"]["rps"]
                result["runs"].append(pair)
            result["load_after"] = list(common.load_average())
        finally:
            server.stop()
    result["summary"] = summarise(result)
    return result


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    runs = result["runs"]

    def med(route: str, key: str) -> float:
        return float(statistics.median(r[route][key] for r in runs))

    summary = {
        "offers_rps": med("offers", "rps"), "offers_p50_ms": med("offers", "p50_ms"),
        "offers_p99_ms": med("offers", "p99_ms"), "rank_rps": med("rank", "rps"),
        "rank_p50_ms": med("rank", "p50_ms"), "rank_p99_ms": med("rank", "p99_ms"),
        "ratio": statistics.median(r["ratio"] for r in runs),
        "anonymous_rps": med("offers-anonymous", "rps"), "anonymous_p50_ms": med("offers-anonymous", "p50_ms"),
        "anonymous_p99_ms": med("offers-anonymous", "p99_ms"),
        "ratio_anonymous": statistics.median(r["ratio_anonymous"] for r in runs),
        "errors": sum(r[w]["non_2xx"] + r[w]["socket_errors"] for r in runs for w in ROUTES),
    }  # fmt: skip
    summary["meets_p99"] = summary["offers_p99_ms"] <= TARGET_P99_MS
    summary["meets_ratio"] = summary["ratio"] >= TARGET_RATIO
    return summary


def section(result: dict[str, Any], command: str) -> str:
    s, p = result["summary"], result["probe"]
    machine = {**result["machine"], "load_before": result.get("load_before", result["machine"]["load_before"])}  # fmt: skip
    lines = [
        "## Offers API beside the rank route",
        "",
        report.machine_lines(machine, result.get("load_after")),
        f"- Command: `{command}`",
        f"- Server: `uvicorn devhost.asgi:create_app`, {result['workers']} worker(s), triggers off, fresh "
        "resources with the demo catalog; one model (`"
        + result["policy"]
        + "`, trained on the rank "
        "sample) is current, so both routes run VW predict and publish their decision.",
        f"- Offers load: `bench/offers.lua`, a new body per request: {result['users']:,} visitors "
        f"(the first {result['profiles']:,} have a profile from {result['activity']['events']:,} activity "
        "events applied by the activity consumer), homepage / product page / cart in equal shares, device "
        "and hour in the context, `count` 3. Each request: the visitor's profile (a Cosmos point read under "
        "a timeout, reused per worker for a burst of page views), eligibility, ~14 candidates, bucketed "
        "features, rank, answer with explanations. Settings (local.settings.json): "
        + ", ".join(f"{k}={v}" for k, v in result.get("settings", {}).items())
        + ".",
        "- Offers-anonymous load: the same with `sessionId` instead of `userId` (`OFFERS_ANONYMOUS=1`).",
        f"- Rank load: `bench/rank.lua`, `{result['rank_sample']}` ({result['rank_actions']} actions).",
        f"- wrk {result['connections']} connections, {result['threads']} threads, {result['warmup']:g} s "
        f"warm-up per route, then {result['rounds']} rounds of {result['seconds']:g} s per route, "
        "alternating which goes first.",
        "",
        f"**Median of rounds: offers {s['offers_rps']:,.0f} req/s, p50 {s['offers_p50_ms']:.2f} ms, "
        f"p99 {s['offers_p99_ms']:.2f} ms; rank {s['rank_rps']:,.0f} req/s, p50 {s['rank_p50_ms']:.2f} ms, "
        f"p99 {s['rank_p99_ms']:.2f} ms; offers ÷ rank requests/s {s['ratio']:.2f}.** Targets: p99 ≤ "
        f"{TARGET_P99_MS:g} ms ({'met' if s['meets_p99'] else 'missed'}), ≥ {TARGET_RATIO:.0%} of "
        f"rank's requests/s ({'met' if s['meets_ratio'] else 'missed'}); non-2xx or socket errors: {s['errors']}. "
        f"Anonymous visitors (a session id, so no profile read; the engine alone): {s['anonymous_rps']:,.0f} req/s, "
        f"p50 {s['anonymous_p50_ms']:.2f} ms, p99 {s['anonymous_p99_ms']:.2f} ms, {s['ratio_anonymous']:.2f} of rank.",
        "",
        "| round | route | req/s | p50 | p90 | p99 | max | offers ÷ rank |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        for route in r["order"]:
            w = r[route]
            ratio = {
                "offers": f"{r['ratio']:.2f}",
                "offers-anonymous": f"{r['ratio_anonymous']:.2f}",
            }.get(route, "")
            lines.append(
                f"| {r['round']} | {route} | {w['rps']:,.0f} | {w['p50_ms']:.2f} ms | "
                f"{w['p90_ms']:.2f} ms | {w['p99_ms']:.2f} ms | {w['max_ms']:.1f} ms | {ratio} |"
            )
    lines += [
        "",
        f"Unloaded probe of {p['requests']} visitors from the same pool: {p['known']} served from "
        f"their profile, {p['requests'] - p['known']} cold start, {p['profile_unavailable']} profile "
        f"reads over the timeout, {p['control']} in the control arm, {p['with_signal_reason']} with a "
        "candidate from activity (affinity, brand, popular or also-bought).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.offers",
        description="POST /api/offers p50/p99 and req/s beside the plain rank route (same run).",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per route")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--users", type=int, default=1000, help="visitor pool (default 1000)")
    parser.add_argument("--profiles", type=int, default=300, help="visitors with a profile")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md section")
    args = parser.parse_args(argv)
    result = run(args.workers, args.seconds, args.warmup, args.rounds, args.connections,
                 args.threads, args.users, args.profiles)  # fmt: skip
    command = "python -m bench.offers " + " ".join(argv if argv is not None else sys.argv[1:])
    common.save_results("offers", result)
    print(section(result, command.strip()))
    if args.write:
        report.write_section("offers", section(result, command.strip()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
