"""Patience has a right amount: the optimum of the bite rule, and the probe validated against it.

The optimum (`agents.give_up`) is checked against the real step function; the probe
(`analysis.patience`) must recover the give-up family in order, put the tuned expert nearest
the best give-up time, not score a walk to richer water as giving up, and put an untrained
network far from the best. Few scenes keep this fast; the slow check in every world is in
tests/test_probes_behaviour.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from agents.give_up import T_MAX, best_give_up, catch_rate, rate_shortfall
from agents.scripted import IMPATIENT_TICKS, make_scripted
from agents.world_reading import read_worlds
from analysis.patience import probe_patience
from analysis.scenes import make_scenes
from analysis.stats import clear_of
from sim import weather as W
from sim.events import has
from sim.fishers import CAST, REEL, WAIT

N = 8  # scenes per probe
FAMILY = (5, 10, 20, 40, 10_000)  # scripted:patient:patience_ticks=T; 10_000 never reels in without a bite


@pytest.fixture(scope="module")
def cards():
    fishers = {T: make_scripted("patient", patience_ticks=T) for T in FAMILY}
    fishers |= {"impatient": make_scripted("impatient"), "expert": make_scripted("expert")}
    return {k: probe_patience(f, "lake", seed=0, n_scenes=N) for k, f in fishers.items()}


def test_the_renewal_rate_is_the_worlds_catch_rate():
    """A fisher that reels in at a bite or at age T and casts again at once, at a spot whose bite
    chance is held fixed: the bites it lands per tick are R(T) of agents.give_up."""
    overrides = {"bites.midday": 1.0, "bites.night": 1.0, "fishing.inventory_max": 1, "hunger.rate": 1e-6}
    for give_up in (5, 40):
        # full inventory: every fish hooked is released, so the fish under the line stay
        sc = make_scenes("lake", 24, seed=1, inventory=1, line_out=True, rich=True, overrides=overrides)
        s, p = sc.sim.state, sc.sim.worlds[0].params
        landed, qs = 0, []
        for _ in range(500):
            line, age, bite = s.line[:, 0], s.line_age[:, 0], s.bite[:, 0] > 0
            act = np.where(line & (bite | (age >= give_up)), REEL, np.where(line, WAIT, CAST))
            fish = s.fish[np.arange(sc.n), s.line_row[:, 0], s.line_col[:, 0]]
            factor = W.bite_factor(s, sc.sim.batch)
            qs.append(p.fishing.p_bite * np.minimum(fish / p.fish.density_ref, 2) * factor)
            ev = sc.sim.step(act[:, None]).events[:, 0]
            landed += int((has(ev, "catch") | has(ev, "released")).sum())
        rate = catch_rate(np.array([np.mean(qs)]), int(p.fishing.settle), float(p.fishing.wary_ticks))
        assert landed / (24 * 500) == pytest.approx(rate[give_up - 1, 0], rel=0.1)


def test_the_best_give_up_time_is_interior_and_follows_the_rule():
    q = np.array([0.0, 0.02, 0.08, 0.16])
    best, rate = best_give_up(q, settle=3, wary_ticks=20.0)
    assert (best > 3 + 1).all() and (best < 40).all()  # after the settle time, long before "never"
    assert (np.diff(best) >= 0).all() and rate[0] == 0.0  # a richer spot is worth a little longer
    assert np.allclose(rate_shortfall(best, q, 3, 20.0), 0.0)
    assert (rate_shortfall(np.array([5, 5, 5, 5]), q, 3, 20.0) > 0.2).all()
    assert (best_give_up(q, settle=3, wary_ticks=0.0)[0] == T_MAX).all()  # fish never wary: never give up


def test_the_give_up_family_is_recovered_in_order(cards):
    times = [cards[T]["card"]["median_give_up"]["value"] for T in FAMILY]
    assert stats.spearmanr(FAMILY, times).statistic >= 0.9
    assert times[:4] == [5, 10, 20, 40] and cards[10_000]["card"]["censored"]
    assert cards["impatient"]["card"]["median_give_up"]["value"] == IMPATIENT_TICKS
    assert cards[20]["details"]["controlled_bite"]["landed"]["value"] == 1.0


def test_the_tuned_expert_is_nearest_the_best_give_up_time(cards):
    expert = cards["expert"]["card"]
    assert expert["higher_is"] == "worse" and expert["n"] >= 3
    for other in ("impatient", 10_000):
        assert clear_of(expert, cards[other]["card"])
    assert expert["value"] < min(cards[T]["card"]["value"] for T in FAMILY)
    # too short and too long both count
    assert cards[5]["card"]["value"] > cards[10]["card"]["value"] and cards[40]["card"]["value"] > \
        cards[20]["card"]["value"]


def test_walking_to_richer_water_is_not_giving_up(cards):
    """The expert walks off poor water to a visibly richer spot at once: those scenes are set aside, and
    every give-up it is scored on is its tuned give-up time, never the walk."""
    card, details = cards["expert"]["card"], cards["expert"]["details"]
    assert details["how"]["richer"] > 0 and card["n"] == N - details["how"]["richer"]
    scored = [t for t, how in zip(card["give_up_times"], card["how"], strict=True) if how != "richer"]
    # its give-up times (agents.give_up), less the cast's own tick, which the probe does not count
    assert min(scored) >= min(read_worlds(["lake"], 1).tuned_give_up[0]) - 1
    assert [d is None or np.isnan(d) for d in card["per_unit"]] == [h == "richer" for h in card["how"]]


def test_an_untrained_network_is_far_from_the_best(tmp_path, cards):
    """An untrained PPO network, exported and loaded as a trained one is (deterministic, as the probe
    loads it): on old main it took the probe's ceiling; now it must lie far from the best."""
    import torch
    from stable_baselines3 import PPO

    from agents.policies import load_policy
    from agents.policy_network import export_policy
    from agents.vec_env import make_vec_env

    torch.set_num_threads(1)
    model = PPO("MlpPolicy", make_vec_env("lake", n_worlds=1, n_fishers=1, seed=0), seed=0, device="cpu",
                policy_kwargs={"net_arch": [16, 16]})
    _, path = export_policy(model, tmp_path / "ppo")
    card = probe_patience(load_policy(path, seed=0), "lake", seed=0, n_scenes=N)["card"]
    assert card["value"] >= 10 and clear_of(cards["expert"]["card"], card)
    assert card["low"] > max(cards[T]["card"]["high"] for T in (10, 20))


def test_the_survival_curve_and_hazard_of_the_raw_give_up_times():
    res = probe_patience(make_scripted("patient", patience_ticks=10), "lake", seed=1, n_scenes=6, horizon=20)
    d = res["details"]
    assert d["survival"][:10].tolist() == [1.0] * 10 and d["survival"][10:].tolist() == [0.0] * 11
    assert d["hazard"][10] == 1.0 and d["hazard"][9] == 0.0
    assert d["how"]["reeled"] == 6 and res["card"]["give_up_times"].tolist() == [10] * 6


def test_a_tidal_worlds_scenes_hold_the_tide_so_no_spot_runs_dry():
    """On the coast an ebb took the spot from under the expert's line (and it walked off the dry
    flat, scored as giving up): the scenes hold the tide, so a fisher that never reels in and never
    moves keeps every line for the whole horizon, and the expert is scored only on its give-ups."""

    class Still:
        def reset(self, seed=None):
            pass

        def act(self, obs):
            return np.full(np.asarray(obs).reshape(-1, obs.shape[-1]).shape[0], WAIT)

    res = probe_patience(Still(), "coast", seed=0, n_scenes=16)
    assert res["details"]["how"]["waiting"] == 16
    expert = probe_patience(make_scripted("expert"), "coast", seed=0, n_scenes=16)["card"]
    assert "walked" not in expert["how"] and expert["high"] <= 2
