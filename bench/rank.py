"""Rank latency and throughput over HTTP, with decision logging on, against bare VW predict.

The app is served as devhost serves it (uvicorn, `devhost.asgi:create_app`, httptools + uvloop) but
without devhost's triggers, so the join and the learner do not compete for the cores. Every rank
still publishes its decision to the `<prefix>decisions` stand-in queue in Azurite; afterwards the
queue is read back and its events counted against the requests wrk completed.

Before the server starts, a model trained on a few hundred examples of the same request is saved as
the current model, so rank runs VW predict (without a model it would skip VW altogether).
"""

from __future__ import annotations

import json
import random
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from bench import common
from shared import wiring

SAMPLE = Path(__file__).resolve().parents[1] / "docs" / "samples" / "rank-retail-25.json"
LUA = common.ROOT / "bench" / "rank.lua"
RANK_PATH = "/personalizer/v1.0/rank"
POLICY = "--cb_explore_adf --squarecb -q ::"
TRAIN_EXAMPLES = 300
TARGET_RPS = 1_500
TARGET_P99_MS = 10.0


def sample_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(SAMPLE.read_text())
    body.pop("eventId", None)  # a new id per request
    return body


def vw_lines(body: dict[str, Any]) -> list[str]:
    from shared import features

    context, _ = features.context_line(body["contextFeatures"])
    actions = [features.action_line(a["features"])[0] for a in body["actions"]]
    return features.examples(context, actions)


def train_model(
    body: dict[str, Any], arguments: str = POLICY, count: int = TRAIN_EXAMPLES
) -> bytes:
    """A model that has seen `count` logged decisions on this request (uniform logging policy,
    one action in five clicked more often), so predict runs real weights."""
    from shared import features
    from shared.vw_model import VWModel

    rng = random.Random(7)
    context, _ = features.context_line(body["contextFeatures"])
    actions = [features.action_line(a["features"])[0] for a in body["actions"]]
    model = VWModel.fresh(arguments)
    try:
        for _ in range(count):
            chosen = rng.randrange(len(actions))
            clicked = rng.random() < (0.5 if chosen % 5 == 0 else 0.05)
            model.learn(
                features.examples(
                    context, actions, chosen, -1.0 if clicked else 0.0, 1 / len(actions)
                )
            )
        return model.to_bytes()
    finally:
        model.close()


def save_model(env: dict[str, str], data: bytes, arguments: str = POLICY) -> None:
    from shared.model_store import ModelMeta

    with common.using_env(env):
        meta = ModelMeta(
            version=1,
            run_id="bench",
            policy=arguments,
            events_learned=TRAIN_EXAMPLES,
            updated_at=time.time(),
        )
        wiring.current().model_store.save(data, meta, None)


def _rate(fn: Any, seconds: float) -> float:
    """Calls per second of `fn` over about `seconds` (after a short warm-up)."""
    for _ in range(50):
        fn()
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            fn()
        count += 100
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def baselines(
    env: dict[str, str], data: bytes, body: dict[str, Any], seconds: float = 3.0
) -> dict[str, float]:
    """Single-threaded, in this process, the same model and request:
    - bare VW predict of the prepared lines through the service's own VWModel.predict (VW's C++
      text parser and predict, no per-line Python objects), and through pyvw's
      Workspace.predict (VW's usual Python API) for scale;
    - shared.features lines (action lines memoised, as the ranker does) + VWModel.predict;
    - the whole engine as the route runs it: orjson + RankRequest validation, then Ranker.rank
      (features, predict, sampling, decision event encoded), with a publisher that drops the event
      instead of sending it."""
    import orjson

    from shared import features
    from shared.contracts import RankRequest
    from shared.ranker import Ranker
    from shared.serving_state import ServingState
    from shared.settings import get_settings
    from shared.vw_model import VWModel

    model = VWModel.from_bytes(data, POLICY)
    lines = vw_lines(body)

    def bare() -> None:
        model.predict(lines)

    def pyvw() -> None:
        model._workspace.predict(lines)

    def with_features() -> None:  # as the ranker builds them (action lines memoised)
        context, _ = features.context_line(body["contextFeatures"])
        actions = [features.cached_action_line(a["features"]) for a in body["actions"]]
        model.predict([context, *actions])

    class NullPublisher:
        def publish(self, hub: str, payload: bytes, partition_key: str) -> None:
            pass

        def flush(self, timeout: float = 30.0) -> bool:
            return True

        def close(self) -> None:
            pass

        def stats(self) -> dict[str, int]:
            return {}

    raw = json.dumps(body).encode()
    out: dict[str, float] = {}
    with common.using_env(env):
        app = wiring.current()
        serving = ServingState(app.model_store, app.config_store, 3600, 3600)
        ranker = Ranker(serving, NullPublisher(), get_settings())  # type: ignore[arg-type]
        assert serving.model() is not None, "the benchmark model was not loaded"

        def engine() -> None:
            ranker.rank(RankRequest.model_validate(orjson.loads(raw)))

        out["bare_predict_per_s"] = _rate(bare, seconds)
        out["pyvw_predict_per_s"] = _rate(pyvw, seconds)
        out["features_predict_per_s"] = _rate(with_features, seconds)
        out["engine_rank_per_s"] = _rate(engine, seconds)
        serving.stop()
    model.close()
    return out


# -------------------------------------------------------------------------------------------- wrk
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+\w+),", output):
        result["requests"] = int(m.group(1))
        result["duration_ms"] = _ms(m.group(2))
    if m := re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output):
        result["avg_ms"], result["stdev_ms"], result["max_ms"] = (_ms(x) for x in m.groups())
    for pct in ("50", "75", "90", "99"):
        if m := re.search(rf"^\s+{pct}%\s+([\d.]+\w+)", output, re.M):
            result[f"p{pct}_ms"] = _ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return result


def wrk(
    url: str, body_path: Path, seconds: float, connections: int, threads: int, latency: bool
) -> dict[str, Any]:
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "-s",
        str(LUA),
    ]
    if latency:
        command.append("--latency")
    command.append(url)
    env = {"RANK_BODY": str(body_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    parsed = parse_wrk(done.stdout)
    parsed["raw"] = done.stdout
    return parsed


# ------------------------------------------------------------------------------ publisher and queue
def publisher_stats(server: common.Server, workers: int, timeout: float = 30.0) -> dict[str, Any]:
    """/api/health shows the publisher of whichever worker answered. Ask repeatedly on fresh
    connections until every worker was seen idle (pending 0) with the same counts twice; workers
    are told apart by their counts (health carries no worker id)."""
    deadline = time.monotonic() + timeout
    previous: set[tuple[int, int, int]] = set()
    seen: set[tuple[int, int, int]] = set()
    while time.monotonic() < deadline:
        seen = set()
        busy = False
        for _ in range(8 * workers):
            resp = requests.get(server.url("/health"), timeout=10, headers={"Connection": "close"})
            stats = resp.json().get("publisher", {})
            if stats.get("pending", 0):
                busy = True
            seen.add((stats.get("sent", 0), stats.get("dropped", 0), stats.get("sendFailures", 0)))
        if not busy and len(seen) >= workers and seen == previous:
            break
        previous = seen
        time.sleep(0.5)
    return {
        "workers_seen": len(seen),
        "sent": sum(s[0] for s in seen),
        "dropped": sum(s[1] for s in seen),
        "send_failures": sum(s[2] for s in seen),
        "per_worker": sorted(seen),
    }


def count_decisions(env: dict[str, str]) -> dict[str, Any]:
    """Read back the decisions stand-in queue: messages, events, distinct event ids."""
    from shared.events import standin
    from shared.events.codec import decode as decode_event
    from shared.settings import get_settings

    with common.using_env(env):
        settings = get_settings()
        name = standin.queue_name(settings.hub_standin_queue_prefix, settings.decisions_hub)
        queue = wiring.current().queue_service.get_queue_client(name)
        messages = events = 0
        ids: set[str] = set()
        versions: Counter[str] = Counter()
        while True:
            batch = list(
                queue.receive_messages(
                    messages_per_page=32, max_messages=32, visibility_timeout=600
                )
            )
            if not batch:
                break
            for message in batch:
                messages += 1
                for event in standin.decode(message.content):
                    events += 1
                    ids.add(event.partition_key)
                    decision = decode_event(event.body)
                    versions[getattr(decision, "model_version", "?")] += 1
        return {
            "messages": messages,
            "events": events,
            "distinct_event_ids": len(ids),
            "model_versions": dict(versions),
        }


# ------------------------------------------------------------------------------------------ py-spy
PY_SPY = common.ROOT / ".venv" / "bin" / "py-spy"

# (label, substring of a folded frame) for the inclusive breakdown
_PROFILE_GROUPS = (
    ("VW predict (vw_model.predict)", "predict (shared/vw_model.py"),
    ("features (context_line/action_line)", "shared/features.py"),
    ("request validation (pydantic)", "pydantic"),
    ("decision event + encode", "encode (shared/events/codec.py"),
    ("hot path rank (functions/hot_path.py _rank)", "_rank (functions/hot_path.py"),
    ("Ranker.rank total", "rank (shared/ranker.py"),
    ("body parse (JsonBody.parse_bytes)", "parse_bytes (functions/http_io.py"),
    ("FastAPI (anything under FastAPI.__call__)", "FastAPI.__call__ (fastapi/applications.py"),
    ("hot path dispatcher (HotPath.__call__)", "HotPath.__call__ (functions/hot_path.py"),
    ("uvicorn send (RequestResponseCycle.send)", "RequestResponseCycle.send (uvicorn"),
    ("publisher thread (_run)", "_run (shared/events/queue_publisher.py"),
    ("uvicorn/httptools protocol", "httptools_impl.py"),
)  # fmt: skip


def worker_pids(server: common.Server) -> list[int]:
    """uvicorn's worker processes (multiprocessing spawn children); itself with one worker."""
    found = []
    for pid in common.children(server.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.append(pid)
    return sorted(found) or [server.process.pid]


def profile(
    server: common.Server, body_path: Path, seconds: float, out_dir: Path
) -> dict[str, Any]:
    """py-spy (--gil, raw folded stacks) on the first worker while wrk runs."""
    workers = worker_pids(server)
    if not PY_SPY.exists():
        return {"error": f"{PY_SPY} not found"}
    pid = workers[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / f"rank-pyspy-w{len(workers)}.txt"
    raw.unlink(missing_ok=True)
    spy = subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--gil",
            "-f",
            "raw",
            "-r",
            "200",
            "-d",
            f"{seconds:g}",
            "-p",
            str(pid),
            "-o",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    load = wrk(server.url(RANK_PATH), body_path, seconds, 8, 2, latency=True)
    _, err = spy.communicate(timeout=seconds + 60)
    if not raw.exists():
        return {"error": f"py-spy failed: {err.strip()[-400:]}"}
    return {
        "pid": pid,
        "file": str(raw.relative_to(common.ROOT)),
        "rps_under_profiler": load.get("rps"),
        **summarise_profile(raw),
    }


def summarise_profile(raw: Path) -> dict[str, Any]:
    total = 0
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for label, needle in _PROFILE_GROUPS:
            if any(needle in frame for frame in frames):
                inclusive[label] += count
        leaves[re.sub(r":\d+\)$", ")", frames[-1])] += count
    if not total:
        return {"samples": 0}
    return {
        "samples": total,
        "inclusive_pct": {k: round(100 * v / total, 1) for k, v in inclusive.most_common()},
        "top_leaves_pct": [(k, round(100 * v / total, 1)) for k, v in leaves.most_common(12)],
    }


# --------------------------------------------------------------------------------------------- run
def run(
    workers: tuple[int, ...] = (1, 2),
    seconds: float = 15.0,
    warmup: float = 3.0,
    connections: int = 8,
    threads: int = 2,
    with_profile: bool = False,
    floor: bool = True,
    rounds: int = 3,
) -> dict[str, Any]:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    body = sample_body()
    data = train_model(body)
    results: dict[str, Any] = {
        "sample": SAMPLE.name,
        "actions": len(body["actions"]),
        "policy": POLICY,
        "train_examples": TRAIN_EXAMPLES,
        "connections": connections,
        "threads": threads,
        "seconds": seconds,
        "warmup": warmup,
        "targets": {"rps": TARGET_RPS, "p99_ms": TARGET_P99_MS},
        "runs": [],
    }
    steps = rounds * len(workers) * (2 if floor else 1) + 1
    results["rounds"] = rounds
    results["floor"] = []
    with tempfile.TemporaryDirectory() as tmp, tqdm(total=steps, desc="rank", unit="step") as bar:
        body_path = Path(tmp) / "rank-body.json"
        body_path.write_text(json.dumps(body))
        model_path = Path(tmp) / "floor-model.vw"
        model_path.write_bytes(data)
        # Alternate app and floor (and which goes first) so that load from others on the shared
        # machine falls on both alike; the ratio of each round's pair is what is compared.
        for round_no in range(rounds):
            for count in workers:
                order = ("floor", "app") if (round_no + count) % 2 == 0 else ("app", "floor")
                for which in order:
                    if which == "floor" and not floor:
                        continue
                    bar.set_postfix_str(f"round {round_no + 1}, {which}, {count} worker(s)")
                    if which == "floor":
                        entry = _floor_run(
                            count, body, body_path, model_path, seconds, warmup, connections,
                            threads,
                        )  # fmt: skip
                        results["floor"].append({**entry, "round": round_no + 1})
                    else:
                        last = round_no == rounds - 1
                        entry = _http_run(
                            count, body, body_path, data, seconds, warmup, connections, threads,
                            with_profile and last,
                        )  # fmt: skip
                        results["runs"].append({**entry, "round": round_no + 1})
                    bar.update()
        bar.set_postfix_str("bare VW predict")
        with common.resources() as env:
            save_model(env, data)
            results["baseline"] = baselines(env, data, body)
        bar.update()
    for entry in results["runs"]:
        entry["ratio_to_bare"] = entry["wrk"]["rps"] / results["baseline"]["bare_predict_per_s"]
    results["summary"] = summarise(results)
    return results


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def summarise(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per worker count: medians over the rounds and each round's app ÷ floor ratio."""
    out = []
    floor = {(f["workers"], f.get("round", 1)): f["wrk"] for f in results.get("floor") or []}
    for count in sorted({r["workers"] for r in results["runs"]}):
        runs = [r for r in results["runs"] if r["workers"] == count]
        ratios = [
            r["wrk"]["rps"] / f["rps"]
            for r in runs
            if (f := floor.get((count, r.get("round", 1)))) and f.get("rps")
        ]
        floors = [f for (w, _), f in floor.items() if w == count]
        # requests per CPU-second of the uvicorn processes: less sensitive to others' load
        cpu_floor = {
            f.get("round", 1): f["wrk"]["rps"] / f["cpu_cores"]["uvicorn workers"]
            for f in results.get("floor") or []
            if f["workers"] == count and f["cpu_cores"].get("uvicorn workers")
        }
        cpu_ratios = [
            (r["wrk"]["rps"] / r["cpu_cores"]["uvicorn workers"]) / cpu_floor[r.get("round", 1)]
            for r in runs
            if r.get("round", 1) in cpu_floor and r["cpu_cores"].get("uvicorn workers")
        ]
        out.append(
            {
                "workers": count,
                "rounds": len(runs),
                "app_rps": _median([r["wrk"]["rps"] for r in runs]),
                "app_p50_ms": _median([r["wrk"]["p50_ms"] for r in runs]),
                "app_p99_ms": _median([r["wrk"]["p99_ms"] for r in runs]),
                "app_p99_worst_ms": max(r["wrk"]["p99_ms"] for r in runs),
                "floor_rps": _median([f["rps"] for f in floors]) if floors else None,
                "floor_p50_ms": _median([f["p50_ms"] for f in floors]) if floors else None,
                "floor_p99_ms": _median([f["p99_ms"] for f in floors]) if floors else None,
                "ratios": [round(x, 3) for x in ratios],
                "cpu_ratios": [round(x, 3) for x in cpu_ratios],
                "cpu_ratio_median": _median(cpu_ratios) if cpu_ratios else None,
                "ratio_median": _median(ratios) if ratios else None,
                "dropped": sum(r["publisher"]["dropped"] for r in runs),
                "missing": sum(
                    max(0, r["requests_completed"] - r["queue"]["distinct_event_ids"]) for r in runs
                ),
                "load_1min": [r["load_before"][0] for r in runs],
            }
        )
    return out


def _floor_run(
    workers: int,
    body: dict[str, Any],
    body_path: Path,
    model_path: Path,
    seconds: float,
    warmup: float,
    connections: int,
    threads: int,
) -> dict[str, Any]:
    """The bare floor app (bench/floor_app.py) under the same uvicorn command and load."""
    server = common.uvicorn(
        {"BENCH_FLOOR_MODEL": str(model_path)}, workers, "bench.floor_app:create_app", "floor"
    )
    try:
        server.wait_healthy()
        url = server.url(RANK_PATH)
        requests.post(url, json=body, timeout=30).raise_for_status()
        wrk(url, body_path, warmup, connections, threads, latency=False)
        groups = {"uvicorn workers": [server.process.pid, *worker_pids(server)]}
        before = _cpu(groups)
        started = time.monotonic()
        measured = wrk(url, body_path, seconds, connections, threads, latency=True)
        cpu = _cpu_used(before, _cpu(groups), time.monotonic() - started)
    finally:
        server.stop()
    return {
        "workers": workers,
        "wrk": {k: v for k, v in measured.items() if k != "raw"},
        "cpu_cores": cpu,
    }


def _cpu(groups: dict[str, list[int]]) -> dict[str, float]:
    snap = {
        name: sum(common.process_cpu_seconds(p) for p in set(pids)) for name, pids in groups.items()
    }
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    snap["wrk"] = (
        children.ru_utime + children.ru_stime
    )  # wrk is the only child waited for meanwhile
    snap["machine"] = common.machine_busy_seconds()
    return snap


def _cpu_used(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """Cores used by each group over the measured window; `other` is the rest of the machine."""
    used = {name: (after[name] - before[name]) / wall for name in before}
    used["other"] = used["machine"] - sum(v for k, v in used.items() if k != "machine")
    return {k: round(v, 2) for k, v in used.items()}


def _http_run(
    workers: int,
    body: dict[str, Any],
    body_path: Path,
    data: bytes,
    seconds: float,
    warmup: float,
    connections: int,
    threads: int,
    with_profile: bool,
) -> dict[str, Any]:
    with common.resources() as env:
        save_model(env, data)
        server = common.uvicorn(env, workers)
        try:
            server.wait_healthy()
            url = server.url(RANK_PATH)
            # every worker loads the model on its first rank: make sure the probe was served by it
            probe = requests.post(url, json=body, timeout=30)
            probe.raise_for_status()
            load_before = common.load_average()
            warm = wrk(url, body_path, warmup, connections, threads, latency=False)
            groups = {
                "uvicorn workers": [server.process.pid, *worker_pids(server)],
                "azurite": common.pids_matching("azurite"),
                "cosmos emulator": common.pids_matching("cosmosdb-server"),
            }
            before = _cpu(groups)
            started = time.monotonic()
            measured = wrk(url, body_path, seconds, connections, threads, latency=True)
            cpu = _cpu_used(before, _cpu(groups), time.monotonic() - started)
            load_after = common.load_average()
            stats = publisher_stats(server, workers)
            queue = count_decisions(env)  # before profiling, which sends more requests
            prof = profile(server, body_path, 10.0, common.OUT) if with_profile else None
        finally:
            server.stop()
    completed = 1 + warm.get("requests", 0) + measured.get("requests", 0)
    entry: dict[str, Any] = {
        "workers": workers,
        "wrk": {k: v for k, v in measured.items() if k != "raw"},
        "wrk_raw": measured["raw"],
        "warmup_requests": warm.get("requests", 0),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "publisher": stats,
        "cpu_cores": cpu,
        "queue": queue,
        "requests_completed": completed,
    }
    if prof is not None:
        entry["profile"] = prof
    return entry
