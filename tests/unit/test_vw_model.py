"""VWModel's direct pylibvw path must give exactly what pyvw's own predict/learn give."""

from __future__ import annotations

import random

import vowpalwabbit

from shared import features
from shared.vw_model import VWModel
from simulator.worlds import TomAnna

ARGS = "--cb_explore_adf --squarecb -q ::"


def lines_for(world: TomAnna) -> tuple[list[str], object]:
    visit = world.visit()
    body = world.rank_request(visit)
    context, _ = features.context_line(body["contextFeatures"])
    return [context, *(features.action_line(a["features"])[0] for a in body["actions"])], visit


def test_fast_path_matches_pyvw_and_round_trips() -> None:
    ours = VWModel.fresh(ARGS)
    reference = vowpalwabbit.Workspace(f"{ARGS} --quiet")
    world, rng = TomAnna(seed=11), random.Random(11)
    for _ in range(300):
        lines, visit = lines_for(world)
        probabilities = ours.predict(lines)
        assert probabilities == reference.predict(lines)
        chosen = rng.randrange(len(lines) - 1)
        cost = -world.reward(visit, TomAnna.actions()[chosen]["id"])  # type: ignore[arg-type]
        labelled = features.examples(lines[0], lines[1:], chosen, cost, probabilities[chosen])
        ours.learn(labelled)
        reference.learn(labelled)
    lines, _ = lines_for(world)
    restored = VWModel.from_bytes(ours.to_bytes(), ARGS)
    assert restored.predict(lines) == ours.predict(lines) == reference.predict(lines)
    assert max(ours.predict(lines)) > 0.5  # it learned something, not a flat distribution
