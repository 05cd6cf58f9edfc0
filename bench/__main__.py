"""`python -m bench`: the project's benchmarks; `--write` puts results into docs/benchmarks.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from bench import common

EPILOG = """
examples:
  python -m bench policies --write        in-process policy comparison (about 8 minutes)
  python -m bench learning --write        the real loop over HTTP, default and epsilon 0.2,
                                          at 40 and 100 decisions/s (about 10 minutes)
  python -m bench learning --rate 40 --seed 1 2 3 --also squarecb --write
  python -m bench learning --rate 100 --also squarecb --merge --write   ... adds 100/s runs
  python -m bench rank --write            wrk against uvicorn, 1 and 2 workers (about 1 minute)
  python -m bench rank --profile          ... and py-spy one worker under load
  python -m bench all --write             all three
  python -m bench rank --write --from-results   rewrite the section from bench/results/rank.json

Azurite (127.0.0.1:10000-10002) and the Cosmos emulator (127.0.0.1:8081) must be running for
`learning` and `rank` (`make emulators`); each run creates its own database, containers and queues
and drops them afterwards. Run `rank` on an otherwise idle machine: it measures the CPU.
"""


def _command(argv: list[str]) -> str:
    return "python -m bench " + " ".join(shlex.quote(a) for a in argv)


def parse_args(argv: list[str]) -> argparse.Namespace:
    common_opts = argparse.ArgumentParser(add_help=False)
    common_opts.add_argument(
        "--write", action="store_true", default=argparse.SUPPRESS,
        help="replace this benchmark's section of docs/benchmarks.md (and the plot)",
    )  # fmt: skip
    common_opts.add_argument(
        "--from-results", action="store_true", default=argparse.SUPPRESS,
        help="do not run: reuse bench/results/NAME.json (with --write, to regenerate the doc)",
    )  # fmt: skip

    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the Personalizer replacement: learning policies in-process, the "
        "learning loop over HTTP, and rank latency/throughput. Results go to bench/results/ and, "
        "with --write, to docs/benchmarks.md.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--from-results", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{policies,learning,rank,all}"
    )

    p = sub.add_parser(
        "policies", parents=[common_opts],
        help="candidate VW policies on Tom/Anna, in-process, learning after every step",
    )  # fmt: skip
    _policies_opts(p)

    p = sub.add_parser(
        "learning", parents=[common_opts],
        help="Tom/Anna through the real loop over HTTP (devhost), vs in-process",
    )  # fmt: skip
    _learning_opts(p)

    p = sub.add_parser(
        "rank", parents=[common_opts],
        help="rank throughput/latency with wrk (decision logging on) vs bare VW predict",
    )  # fmt: skip
    _rank_opts(p)

    p = sub.add_parser("all", parents=[common_opts], help="policies, then learning, then rank")
    _policies_opts(p)
    _learning_opts(p)
    _rank_opts(p)
    return parser.parse_args(argv)


def _policies_opts(p: argparse.ArgumentParser) -> None:
    from bench import policies

    g = p.add_argument_group("policies")
    g.add_argument(
        "--seeds",
        type=int,
        default=len(policies.SEEDS),
        help=f"seeds 1..N (default {len(policies.SEEDS)})",
    )
    g.add_argument(
        "--policy", action="append", dest="policy_keys", metavar="KEY",
        choices=[c.key for c in policies.CANDIDATES],
        help="only these candidates (repeatable): " + ", ".join(c.key for c in policies.CANDIDATES),
    )  # fmt: skip
    g.add_argument("--no-drift", action="store_true", help="skip the drift continuations (S2, S3)")
    g.add_argument(
        "--merge-policies", action="store_true",
        help="add these candidates to bench/results/policies.json instead of replacing it",
    )  # fmt: skip


def _rate(text: str) -> int:
    from bench import learning

    if text == "max":
        return learning.FULL_SPEED
    rate = int(text)
    if rate <= 0:
        raise argparse.ArgumentTypeError("a rate is a positive number of decisions/s, or `max`")
    return rate


def _learning_opts(p: argparse.ArgumentParser) -> None:
    from bench import learning

    g = p.add_argument_group("learning")
    g.add_argument("--decisions", type=int, default=learning.DECISIONS, help="decisions per policy")
    g.add_argument(
        "--rate", type=_rate, nargs="+", default=list(learning.RATES), dest="rates",
        help="decisions a second, or `max` (as fast as one client goes), one run per rate and"
        " policy (default: 40 100)",
    )  # fmt: skip
    g.add_argument("--tick", type=float, default=0.25, help="seconds per tick (default 0.25)")
    g.add_argument(
        "--seed", type=int, nargs="+", default=[learning.SEED], dest="loop_seeds",
        help="world seed(s), one run per seed (default 1)",
    )  # fmt: skip
    g.add_argument(
        "--merge", action="store_true",
        help="add these runs to bench/results/learning.json instead of replacing it",
    )  # fmt: skip
    g.add_argument(
        "--also", action="append", default=[], choices=sorted(learning.EXTRA),
        help="also run this policy through the loop (repeatable)",
    )  # fmt: skip


def _rank_opts(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rank")
    g.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker counts")
    g.add_argument("--duration", type=float, default=15.0, help="measured seconds (default 15)")
    g.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    g.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    g.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    g.add_argument("--profile", action="store_true", help="py-spy one worker under load afterwards")
    g.add_argument(
        "--rounds", type=int, default=3,
        help="rounds of app and floor, alternating (default 3); ratios are per round",
    )  # fmt: skip
    g.add_argument(
        "--no-floor", action="store_true",
        help="skip the bare FastAPI + VW predict floor (bench/floor_app.py)",
    )  # fmt: skip


def _result(
    name: str, args: argparse.Namespace, run: Any, merge_with: Any = None
) -> dict[str, Any]:
    if getattr(args, "from_results", False):
        loaded = common.load_results(name)
        if loaded is None:
            raise SystemExit(
                f"no bench/results/{name}.json yet: run `python -m bench {name}` first"
            )
        return loaded
    info = common.machine()
    result: dict[str, Any] = run()
    result["machine"] = info
    result["load_after"] = [round(x, 2) for x in common.load_average()]
    result["command"] = args.command_line
    previous = common.load_results(name) if merge_with else None
    if previous is not None:
        result = merge_with(previous, result)
    path = common.save_results(name, result)
    print(f"results: {path.relative_to(common.ROOT)}")
    return result


def do_policies(args: argparse.Namespace) -> dict[str, Any]:
    from bench import policies, report

    result = _result(
        "policies",
        args,
        lambda: policies.run(
            seeds=tuple(range(1, args.seeds + 1)), keys=args.policy_keys, drift=not args.no_drift
        ),
        merge_with=policies.merge if args.merge_policies else None,
    )
    print_policies(result)
    if args.write:
        report.write_section("policies", report.policies_section(result, result["command"]))
    return result


def do_learning(args: argparse.Namespace) -> dict[str, Any]:
    from bench import learning, report

    result = _result(
        "learning",
        args,
        lambda: learning.run(
            keys=args.also,
            decisions=args.decisions,
            rates=tuple(args.rates),
            tick=args.tick,
            seeds=tuple(args.loop_seeds),
        ),
        merge_with=learning.merge if args.merge else None,
    )
    print_learning(result)
    if args.write:
        learning.plot(result, common.load_results("policies"), report.PLOT)
        report.write_section("learning", report.learning_section(result, result["command"]))
    return result


def do_rank(args: argparse.Namespace) -> dict[str, Any]:
    from bench import rank, report

    result = _result(
        "rank",
        args,
        lambda: rank.run(
            workers=tuple(args.workers),
            seconds=args.duration,
            warmup=args.warmup,
            connections=args.connections,
            threads=args.threads,
            with_profile=args.profile,
            floor=not args.no_floor,
            rounds=args.rounds,
        ),
    )
    if getattr(args, "from_results", False):
        for entry in result["runs"]:  # re-read kept py-spy stacks (the groups may have changed)
            raw = common.ROOT / str((entry.get("profile") or {}).get("file", "-"))
            if raw.is_file():
                entry["profile"].update(rank.summarise_profile(raw))
    print_rank(result)
    if args.write:
        report.write_section("rank", report.rank_section(result, result["command"]))
    return result


# ---------------------------------------------------------------------------------- console output
def print_policies(result: dict[str, Any]) -> None:
    print(f"\nTom/Anna in-process, {result['steps']} steps, seeds {result['seeds']} (mean ± sd)")
    head = f"{'policy':38} {'@500':>13} {'@1,000':>13} {'@5,000':>13}"
    if result["drift"]:
        head += f" {'drift S2':>13} {'drift S3':>13}"
    print(head)
    for p in result["policies"]:
        c = p["ctr"]
        line = f"{p['label'][:38]:38} " + " ".join(
            f"{c[k]['mean']:.3f} ± {c[k]['sd']:.3f}" for k in ("500", "1000", "5000")
        )
        if result["drift"]:
            line += " " + " ".join(
                f"{p['drift'][s]['mean']:.3f} ± {p['drift'][s]['sd']:.3f}"
                for s in ("scenario 2", "scenario 3")
            )
        print(line)


def print_learning(result: dict[str, Any]) -> None:
    print(f"\nTom/Anna through the loop, {result['decisions']} decisions")
    for r in result["runs"]:
        print(f"  at {r['pace']['rate']}/s, seed {r.get('seed', 1)}:", end=" ")
        loop, ref = r["loop"], r["in_process"]
        drained = r["model_after_drain"] or {}
        at_5000 = r["model_at"].get("5000") or {}
        la, ra = loop["at"], ref["at"]
        print(
            f"{r['label']:18} {r['policy']['arguments']:40}"
            f" loop @1000 {la.get('1000', 0):.3f} @5000 {la.get('5000', 0):.3f}"
            f" (last 1000 {loop['last_1000_ctr']:.3f}) |"
            f" in-process @1000 {ra.get('1000', 0):.3f} @5000 {ra.get('5000', 0):.3f} |"
            f" model at 5000: v{at_5000.get('version', 0)}"
            f" ({at_5000.get('events_learned', 0)} learned),"
            f" after drain v{drained.get('version', 0)} ({drained.get('events_learned', 0)}) |"
            f" {loop['rate']:.0f} dec/s"
        )


def print_rank(result: dict[str, Any]) -> None:
    base = result["baseline"]
    print(f"\nrank over HTTP ({result['connections']} connections, {result['seconds']:g} s)")
    for r in result["runs"]:
        w = r["wrk"]
        print(
            f"workers {r['workers']}, round {r.get('round', 1)}: {w['rps']:,.0f}/s"
            f" p50 {w['p50_ms']:.2f} ms p99 {w['p99_ms']:.2f} ms"
            f" non-2xx {w['non_2xx']} | ratio to bare {r['ratio_to_bare']:.2f} |"
            f" queue {r['queue']['events']} events ({r['queue']['distinct_event_ids']} ids) vs"
            f" {r['requests_completed']} completed | dropped {r['publisher']['dropped']}"
        )
        if r.get("profile"):
            print(f"  profile: {r['profile'].get('inclusive_pct') or r['profile']}")
    for r in result.get("floor", []):
        w = r["wrk"]
        print(
            f"floor, workers {r['workers']}, round {r.get('round', 1)}: {w['rps']:,.0f}/s"
            f" p50 {w['p50_ms']:.2f} ms p99 {w['p99_ms']:.2f} ms non-2xx {w['non_2xx']}"
        )
    for s in result.get("summary", []):
        print(
            f"summary, workers {s['workers']}: app {s['app_rps']:,.0f}/s (p50 {s['app_p50_ms']:.2f}"
            f" p99 {s['app_p99_ms']:.2f} ms) floor {s['floor_rps'] or 0:,.0f}/s, app/floor per"
            f" round {s['ratios']} median {s['ratio_median'] or 0:.3f}, dropped {s['dropped']},"
            f" missing {s['missing']}"
        )
    print(
        f"bare VW predict {base['bare_predict_per_s']:,.0f}/s, features+predict "
        f"{base['features_predict_per_s']:,.0f}/s, engine rank {base['engine_rank_per_s']:,.0f}/s"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.write = getattr(args, "write", False)
    args.command_line = _command(argv)
    if args.command in ("policies", "all"):
        do_policies(args)
    if args.command in ("learning", "all"):
        do_learning(args)
    if args.command in ("rank", "all"):
        do_rank(args)
    if args.write:
        print("wrote docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
