"""Our estimators on the real Open Bandit Dataset sample (bench/obd.py): the replicated Bernoulli-TS
distribution is a proper one-item-per-position ranking, weights of 1 reproduce the logged CTR
exactly, and the BTS estimate from the random logs lands near the BTS campaign's logged CTR."""

from __future__ import annotations

import numpy as np
import pytest

from bench import obd
from shared.evaluation.estimators import ips

ROOT = obd.obp_dir()
pytestmark = pytest.mark.skipif(ROOT is None, reason="obp 0.4.1 data not installed (see Makefile)")
N_SIM = 20_000  # enough for the checks below, a fraction of a second


@pytest.fixture(scope="module")
def random_logs() -> obd.Logs:
    assert ROOT is not None
    return obd.load_logs(ROOT, "random", "all")


@pytest.fixture(scope="module")
def bts_dist() -> np.ndarray:
    assert ROOT is not None
    return obd.bts_action_dist(*obd.load_prior(ROOT, "all"), n_sim=N_SIM)


def test_bts_distribution_is_one_distinct_item_per_position(bts_dist: np.ndarray) -> None:
    assert bts_dist.shape == (80, obd.LEN_LIST)
    assert np.allclose(bts_dist.sum(axis=0), 1.0)  # exactly one item at each position
    assert (bts_dist.sum(axis=1) <= 1.0 + 1e-12).all()  # an item fills at most one position
    # the strongest prior (alpha/(alpha+beta)) is mostly ranked first
    alpha, beta = obd.load_prior(ROOT, "all")  # type: ignore[arg-type]
    assert bts_dist[:, 0].argmax() == int(np.argmax(alpha / (alpha + beta)))


def test_bts_distribution_matches_obps_one_draw_per_simulation() -> None:
    """obp draws rng.beta(alpha, beta) once per simulation; our block draws must give the same."""
    alpha, beta = obd.load_prior(ROOT, "all")  # type: ignore[arg-type]
    rng, counts = np.random.RandomState(7), np.zeros((len(alpha), obd.LEN_LIST))
    for _ in range(500):
        top = rng.beta(a=alpha, b=beta).argsort()[::-1][: obd.LEN_LIST]
        for pos in range(obd.LEN_LIST):
            counts[top[pos], pos] += 1
    assert np.array_equal(obd.bts_action_dist(alpha, beta, n_sim=500, seed=7), counts / 500)


def test_uniform_policy_on_its_own_logs_is_the_logged_ctr(random_logs: obd.Logs) -> None:
    w = obd.weights(obd.uniform_action_dist(random_logs.n_actions), random_logs)
    assert np.allclose(w, 1.0)
    estimate = ips(random_logs.click.tolist(), w.tolist())
    assert estimate.value == pytest.approx(random_logs.click.mean(), abs=1e-15)
    assert estimate.ess == pytest.approx(len(w))


def test_bts_estimates_land_near_the_bts_logs(random_logs: obd.Logs, bts_dist: np.ndarray) -> None:
    assert ROOT is not None
    truth = obd.load_logs(ROOT, "bts", "all").click.mean()
    estimates = obd.estimate(random_logs, bts_dist, shrink=2.0, folds=3, seed=obd.SEED)
    for name, e in estimates.items():
        assert obd.rel_error(e.value, truth) < 0.5, name
    for name in ("IPS", "SNIPS", "DR"):
        assert estimates[name].low <= truth <= estimates[name].high, name
    assert 0.9 < estimates["IPS"].mean_weight < 1.1  # the random logs support BTS everywhere
