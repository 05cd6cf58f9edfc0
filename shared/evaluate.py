"""`python -m shared.evaluate`: offline evaluation of policies over a joined DSJSON archive, a
local folder of archive files or the app's archive container, with a progress bar; prints the
estimates (IPS, SNIPS, DR with 95% intervals and the effective sample size) and saves a plot of
each policy's estimate per window."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared.archive import decode_lines
from shared.evaluation import optimizer
from shared.evaluation.policies import (
    Baseline,
    Line,
    Online,
    TargetPolicy,
    Uniform,
    VWPolicy,
)
from shared.evaluation.runner import evaluate


def _local(folder: Path) -> list[bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl"))
    return [p.read_bytes() for p in files]


def _archive(prefix: str, settings: str) -> list[bytes]:
    from devhost.settings_loader import load_local_settings
    from shared import wiring

    load_local_settings(settings)
    wiring.reset()
    archive = wiring.current().archive
    return [archive.read(path) for path in archive.list(prefix)]


def _lines(blobs: list[bytes]) -> Iterator[Line]:
    for blob in blobs:
        yield from decode_lines(blob)


def table(result: dict[str, Any]) -> str:
    rows = [f"{'policy':<28} {'estimator':<6} {'value':>7} {'95% interval':>17} {'ESS':>8}"]
    for policy in result["policyResults"]:
        for name, est in policy["totalSummary"]["estimates"].items():
            interval = f"{est['low']:.3f} – {est['high']:.3f}"
            rows.append(f"{policy['name'][:28]:<28} {name:<6} {est['value']:>7.3f} "
                        f"{interval:>17} {est['ess']:>8.0f}")  # fmt: skip
    return "\n".join(rows)


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for policy in result["policyResults"]:
        points = [(i, w["estimates"]["snips"]["value"]) for i, w in enumerate(policy["summary"])]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=policy["name"])
    ax.set_xlabel("window")
    ax.set_ylabel("estimated reward (SNIPS)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.evaluate", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--folder", type=Path, help="a local copy of archive/joined/ (or part)")
    source.add_argument(
        "--prefix", help="read the app's archive container, e.g. joined/2026/11/23/"
    )
    parser.add_argument("--policy", action="append", default=[], metavar="NAME=ARGS",
                        help='a VW argument set to replay, e.g. "eps=--cb_explore_adf --epsilon '
                        '0.2 -q ::" (repeatable)')  # fmt: skip
    parser.add_argument("--optimize", action="store_true",
                        help="also replay the optimizer's grid (shared/evaluation/optimizer.py) "
                        "and name the best policy by the lower end of its DR interval")  # fmt: skip
    parser.add_argument("--window", type=int, default=3600, help="seconds per window (3600)")
    parser.add_argument("--plot", type=Path, default=Path("evaluation.png"), help="plot file")
    parser.add_argument("--settings", default="local.settings.json", help="with --prefix")
    args = parser.parse_args(argv)
    from tqdm import tqdm

    blobs = _local(args.folder) if args.folder else _archive(args.prefix, args.settings)
    total = sum(blob.count(b"\n") for blob in blobs)
    if not total:
        parser.error("no logged decisions found")
    policies: list[TargetPolicy] = [Online(), Baseline(), Uniform()]
    for spec in args.policy:
        name, sep, arguments = spec.partition("=")
        if not sep:
            parser.error(f"--policy {spec!r}: expected NAME=ARGS")
        policies.append(VWPolicy(name, arguments))
    if args.optimize:
        policies += [VWPolicy(c["name"], c["arguments"]) for c in optimizer.grid()]
    with tqdm(total=total, desc="evaluate", unit="decision") as bar:
        result = evaluate(_lines(blobs), policies, args.window, bar.update)
    for policy in policies:
        policy.close()
    print(table(result))
    if len(result["policyResults"]) > 3:
        best = optimizer.best(result["policyResults"][3:])
        dr = best["totalSummary"]["estimates"]["dr"]
        print(f"best replayed policy: {best['name']} ({best['arguments']}), "
              f"DR {dr['value']:.3f} [{dr['low']:.3f}, {dr['high']:.3f}]")  # fmt: skip
    plot(result, args.plot)
    print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
