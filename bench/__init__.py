"""Benchmarks: `python -m bench --help`.

- `policies`: candidate VW policies on the Tom/Anna problem, in-process, learning after every step.
- `learning`: the same problem through the real loop (HTTP rank/reward -> hubs -> join -> timer
  learn -> model hot-swap), against the in-process curve.
- `rank`: rank latency/throughput over HTTP (wrk) with decision logging on, against bare VW predict.

Each run saves its raw results under bench/results/ and, with `--write`, replaces its own section of
docs/benchmarks.md (between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`).
"""
