"""The simulated worlds: seeded, with signal (oracle well above random), context that matters,
sharp drift, a funnel that follows the hidden model; and the learning-curve arithmetic."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from simulator import curve
from simulator.evaluate import evaluate, visits
from simulator.retail import RetailWorld, parse_offers
from simulator.scenarios import SCENARIOS, build_world
from simulator.tomanna import TomAnnaWorld
from simulator.world import World
from simulator.worlds import PREFERENCE_SETS, SCENARIO_1

CATALOG = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "sim_catalog.json").read_text()
)


def world_of(name: str, seed: int = 3) -> World:
    if name.startswith("retail"):
        drift = SCENARIOS[name].default_drift_at
        return RetailWorld(seed, drift, catalog=CATALOG)
    return build_world(name, seed)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_has_signal(name: str) -> None:
    values = evaluate(world_of(name), visitors=1_500, sessions=2)
    assert values.oracle > 3 * values.random, values
    assert values.oracle - values.random > 0.4, values
    # context matters: no single action shown to everyone comes close to the oracle
    assert values.best_fixed < 0.8 * values.oracle, values


def test_worlds_are_reproducible_and_seeds_differ() -> None:
    def trace(world: World) -> list[tuple[str, str, float]]:
        out = []
        for visit in visits(world, 50, 2):
            action = world.actions(visit)[visit.ordinal % len(world.actions(visit))]
            reaction = world.react(visit, action, world.reaction_rng(visit))
            out.append((visit.user_id, json.dumps(visit.context), reaction.reward))
        return out

    assert trace(world_of("retail", 5)) == trace(world_of("retail", 5))
    assert trace(world_of("retail", 5)) != trace(world_of("retail", 6))
    assert trace(TomAnnaWorld(5)) == trace(TomAnnaWorld(5))


def test_visits_of_a_session_share_their_context_and_visitors_keep_their_identity() -> None:
    world = world_of("retail")
    first, second = world.visit_at(4, 0, 2), world.visit_at(4, 1, 2)
    assert first.context == second.context and first.session == second.session == 0
    later = world.visit_at(4, world.pages_per_session, 2)
    assert later.session == 1 and later.user_id == first.user_id
    assert first.ordinal == 4 * world.steps_per_visitor(2)


def test_tomanna_has_the_tutorials_three_preference_sets() -> None:
    assert PREFERENCE_SETS[0] is SCENARIO_1
    assert PREFERENCE_SETS[1][("Tom", "afternoon")] == "sports"
    assert PREFERENCE_SETS[2][("Anna", "morning")] == "food"
    world = TomAnnaWorld(1, drift_at=100)
    for visit in visits(world, 300, 1):
        favourite = PREFERENCE_SETS[visit.ordinal // 100][
            (visit.user_id, visit.context["time_of_day"])
        ]
        assert world.oracle(visit) == (favourite, 1.0)
        assert world.react(visit, favourite, random.Random(0)).reward == 1.0


def test_retail_drift_is_sharp() -> None:
    """After the drift point the old best offer is the best for few visits, and loses most of
    its value: a learner that does not adapt loses a lot, measurably."""
    world = RetailWorld(3, drift_at=1_000, catalog=CATALOG)
    same = lost = total = 0
    for visit in visits(world, 400, 2):
        if visit.epoch != 1:
            continue
        before = world.visit(visit.visitor, visit.session, visit.page, 0)  # the same, epoch 0
        old_best, _ = world.oracle(before)
        new_best, new_value = world.oracle(visit)
        same += old_best == new_best
        lost += new_value - world.expected_reward(visit, old_best)
        total += 1
    assert total >= 1_000
    assert same / total < 0.35
    assert lost / total > 0.25


def test_funnel_frequencies_follow_the_hidden_model() -> None:
    world = world_of("retail")
    visit = world.visit_at(0, 0, 1)
    for action in world.actions(visit)[:4]:
        rng = random.Random(11)
        n = 20_000
        mean = sum(world.react(visit, action, rng).reward for _ in range(n)) / n
        assert abs(mean - world.expected_reward(visit, action)) < 0.02


def test_retail_respects_segments_and_dates() -> None:
    catalog = {
        "products": [{"id": "p1", "category": "a", "price": 10}, {"id": "p2", "category": "b"}],
        "offers": [
            {"id": "all", "productIds": ["p1"], "discount": 10},
            {"id": "vip", "productIds": ["p2"], "segments": ["vip"]},
            {"id": "gone", "productIds": ["p2"], "endDate": "2001-01-01T00:00:00Z"},
            {"id": "off", "productIds": ["p2"], "active": False},
        ],
    }
    offers = parse_offers(catalog)
    assert [o.id for o in offers] == ["all", "vip"]
    assert offers[0].discount == pytest.approx(0.10) and offers[0].category == "a"
    world = RetailWorld(1, catalog=catalog)
    assert world.segments == ("vip",)
    assert set(world.actions(world.visit_at(0, 0, 1))) == {"all", "vip"}
    with pytest.raises(ValueError, match="two active offers"):
        parse_offers({"products": [], "offers": [{"id": "x"}]})


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        build_world("nope", 1)


def test_curve_windows_and_regret() -> None:
    rows = [
        {
            "ordinal": i,
            "reward": 1.0 if i % 2 else 0.0,
            "expected": 0.5,
            "oracle": 0.75,
            "random": 0.25,
            "baseline": 0.1,
            "arm": "treatment",
        }
        for i in range(10)
    ]
    rows[9]["arm"] = "control"
    windows = curve.windows(rows, 5)
    assert [w.window for w in windows] == [5, 10]
    assert windows[0].app == 0.5 and windows[0].observed == pytest.approx(0.4)
    assert windows[0].regret == pytest.approx(0.25)
    assert windows[0].control == pytest.approx(0.1)  # no control arm: the baseline
    assert windows[1].control == pytest.approx(0.5)  # the control arm's decisions


def test_curve_csv_and_png(tmp_path: Path) -> None:
    rows = [
        {
            "ordinal": i,
            "reward": 0.0,
            "expected": i / 100,
            "oracle": 1.0,
            "random": 0.1,
            "baseline": 0.0,
        }
        for i in range(100)
    ]
    windows = curve.windows(rows, 20)
    curve.write_csv(windows, tmp_path / "c.csv")
    curve.plot(windows, tmp_path / "c.png", "t")
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines[0].split(",") == list(curve.FIELDS) and len(lines) == 6
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
