"""Capture + join + learn throughput of the learning pipeline, in-process against real Azurite.

A producer offers decisions at a fixed rate (Tom/Anna decision events with one reward each, in hub
batches of 100, enqueued time = now) to the capture (shared/capture.py: one blob per batch and
window); a learner thread runs `Learner.run` every second with the real clock. After the offered
period the producer stops and the learner drains. Reported: decisions offered and learned, the
learner's share of a core, learn runs, reward->model lag per run, blob writes/reads, Cosmos
operations (counted by wrapping the one Cosmos door), and VW learn events/s on one core.

    python -m bench.pipeline --rate 2500 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import uuid
from typing import Any

from bench import common


def _decisions(world: Any, count: int, start: float, prefix: str) -> list[tuple[bytes, bytes]]:
    from shared.events.codec import encode
    from shared.events.decision import DecisionEvent
    from shared.events.observation import RewardEvent

    out = []
    rng = random.Random(7)
    for i in range(count):
        visit = world.visit()
        body = world.rank_request(visit)
        actions = body["actions"]
        chosen = rng.randrange(len(actions))
        order = [chosen, *(j for j in range(len(actions)) if j != chosen)]
        event_id = f"{prefix}-{i}"
        decision = DecisionEvent(
            event_id=event_id,
            timestamp=start,
            context=body["contextFeatures"],
            action_ids=[a["id"] for a in actions],
            action_features=[a["features"] for a in actions],
            ranking=order,
            probabilities=[1 / len(actions)] * len(actions),
            excluded=[],
            model_version="0",
            learning_mode="Online",
            deferred=False,
        )
        value = world.reward(visit, actions[chosen]["id"])
        reward = RewardEvent(event_id, uuid.uuid4().hex, value, start)
        out.append((encode(decision), encode(reward)))
    return out


def vw_learn_rate(examples: int = 20_000) -> float:
    """VW learn events/s on one core with the default policy, Tom/Anna examples (7 actions)."""
    from shared import features
    from shared.policy import DEFAULT_POLICY, from_contract
    from shared.vw_model import VWModel
    from simulator.worlds import TomAnna

    world = TomAnna(seed=3)
    model = VWModel.fresh(from_contract(DEFAULT_POLICY).arguments)
    lines = []
    for i in range(examples):
        body = world.rank_request(world.visit())
        context, _ = features.context_line(body["contextFeatures"])
        acts = [features.cached_action_line(a["features"]) for a in body["actions"]]
        lines.append(features.examples(context, acts, i % 7, -1.0, 1 / 7))
    started = time.process_time()
    for example in lines:
        model.learn(example)
    return examples / (time.process_time() - started)


def run(rate: int, seconds: float) -> dict[str, Any]:
    from shared import wiring
    from shared.capture import Capture
    from shared.cosmos_store import CosmosStore
    from simulator.worlds import TomAnna

    counts: dict[str, int] = {}
    for name in ("read", "query", "create", "replace", "patch", "upsert"):
        if hasattr(CosmosStore, name):
            original = getattr(CosmosStore, name)

            def counted(self: Any, *a: Any, _o: Any = original, _n: str = name, **k: Any) -> Any:
                counts[_n] = counts.get(_n, 0) + 1
                return _o(self, *a, **k)

            setattr(CosmosStore, name, counted)

    with common.resources() as env, common.using_env(env):
        app = wiring.current()
        store = app.config_store
        store.put_service(
            store.service().model_copy(
                update={"rewardWaitTime": "PT1S", "modelExportFrequency": "PT1S"}
            )
        )
        counts.clear()
        capture = Capture(app.event_log, app.model_store, app.parking)
        pool = _decisions(TomAnna(seed=1), 20_000, 0.0, "pool")
        stop = threading.Event()
        produced = {"decisions": 0, "blobs": 0}
        runs: list[dict[str, Any]] = []
        learn_cpu = [0.0]

        def produce() -> None:
            import orjson

            tick, n = 0.1, 0
            per_tick = int(rate * tick)
            next_at = time.monotonic()
            while not stop.is_set():
                now = time.time()
                batch_d, batch_r = [], []
                for _ in range(per_tick):
                    d, r = pool[n % len(pool)]
                    wd, wr = orjson.loads(d), orjson.loads(r)
                    wd["EventId"] = wr["EventId"] = f"e{n}"
                    wd["_t"], wr["t"] = now, now + 0.05
                    batch_d.append((now, orjson.dumps(wd)))
                    batch_r.append((now + 0.05, orjson.dumps(wr)))
                    n += 1
                for kind, events in (("decisions", batch_d), ("rewards", batch_r)):
                    for i in range(0, len(events), 100):
                        produced["blobs"] += len(capture.consume(kind, events[i : i + 100]).blobs)
                produced["decisions"] = n
                next_at += tick
                time.sleep(max(0.0, next_at - time.monotonic()))

        def learn() -> None:
            while not stop.is_set() or not runs or runs[-1]["pending_work"]:
                c0 = time.thread_time()
                report = app.learner.run(force=True)
                learn_cpu[0] += time.thread_time() - c0
                runs.append(
                    {
                        "at": time.time(),
                        "status": report.status,
                        "learned": report.learned,
                        "seconds": report.seconds,
                        "lag": report.lag,
                        "pending_work": stop.is_set() and report.status != "nothing-to-learn",
                    }
                )
                time.sleep(max(0.0, 1.0 - report.seconds))

        started = time.time()
        producer = threading.Thread(target=produce)
        learner = threading.Thread(target=learn)
        producer.start()
        learner.start()
        time.sleep(seconds)
        stop.set()
        stopped = time.time()
        producer.join()
        learner.join(timeout=120)
        meta = app.model_store.head()[1]  # type: ignore[index]
        learned_runs = [r for r in runs if r["status"] == "learned" and r["learned"]]
        last = max((r["at"] for r in learned_runs), default=stopped)
        lags50 = sorted(r["lag"]["p50"] for r in learned_runs)
        lags99 = sorted(r["lag"]["p99"] for r in learned_runs)
        return {
            "offered_rate": rate,
            "seconds": seconds,
            "decisions_offered": produced["decisions"],
            "decisions_learned": meta.events_learned,
            "offered_per_s": produced["decisions"] / (stopped - started),
            "learned_per_s_until_drained": meta.events_learned / (last - started),
            "drain_seconds_after_stop": last - stopped,
            "learn_runs": len(learned_runs),
            "learner_cpu_seconds": learn_cpu[0],
            "learner_cores": learn_cpu[0] / (last - started),
            "learn_run_seconds_p50": sorted(r["seconds"] for r in learned_runs)[
                len(learned_runs) // 2
            ],
            "lag_p50_median_run": lags50[len(lags50) // 2] if lags50 else None,
            "lag_p99_worst_run": lags99[-1] if lags99 else None,
            "capture_blob_writes": produced["blobs"],
            "cosmos_ops_during_run": dict(counts),
            "cosmos_ops_per_decision": sum(counts.values()) / max(1, produced["decisions"]),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pipeline", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rate", type=int, default=2500, help="offered decisions/s (default 2500)")
    parser.add_argument("--seconds", type=float, default=60.0, help="offered period (default 60)")
    args = parser.parse_args(argv)
    result = {
        "machine": common.machine(),
        "pipeline": run(args.rate, args.seconds),
        "vw_learn_events_per_s_one_core": vw_learn_rate(),
    }
    common.save_results("pipeline", result)
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
