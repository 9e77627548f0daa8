"""The scripted references: specs, what they read from the world, the forecast, the oracle.

DESIGN, "references bound the scale": scripted fishers read every constant they rely on
from the world, anticipating the storm is not the same as reacting to it, and the
oracle reads the hidden state.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.rollout import run_policy
from agents.scripted import SkillFisher, _spot_scores, scripted_from_spec
from agents.world_reading import read_worlds, storm_eta, tuned_params
from sim.core import Simulation
from sim.observe import LAYOUT, VIEW, VIEW_CHANNELS, VIEW_RADIUS
from sim.weather import STORM
from worlds.loader import load_world, override_world


def test_specs_parse_and_errors_name_the_culprit():
    fisher = scripted_from_spec("scripted:patient:patience_ticks=20")
    assert fisher.patience_ticks == 20 and fisher.name == "patient(patience_ticks=20)"
    assert scripted_from_spec("expert:lead_ticks=6").lead_ticks == 6
    assert scripted_from_spec("scripted:reactive").weather_mode == "react"
    assert type(scripted_from_spec("scripted:oracle")).__name__ == "OracleFisher"
    for spec, word in (("scripted:clairvoyant", "clairvoyant"), ("scripted:patient:patience=3", "patience"),
                       ("scripted:patient:patience_ticks=x", "patience_ticks"),
                       ("scripted:patient:patience_ticks=0", "patience_ticks"),
                       ("scripted:random:lead_ticks=2", "lead_ticks")):
        with pytest.raises(ValueError, match=word) as info:
            scripted_from_spec(spec)
        assert "\n" not in str(info.value)


def test_run_accepts_parameterised_specs():
    from agents.policy_spec import resolve_policy  # what app.run (python -m sim.run) resolves --policy with

    assert resolve_policy("scripted:patient:patience_ticks=7", seed=0).patience_ticks == 7


def _view(n: int = 1) -> np.ndarray:
    return np.zeros((n, VIEW, VIEW, len(VIEW_CHANNELS)), dtype=np.float32)


@pytest.mark.parametrize("reach", [1, 2, 3])
def test_spot_scores_follow_the_cast_reach(reach):
    """A fisher on ground facing a straight run of water scores the cell its line would land on."""
    view = _view()
    ch = {name: i for i, name in enumerate(VIEW_CHANNELS)}
    c = VIEW_RADIUS
    view[0, :, :, ch["ground"]] = 1.0
    view[0, :c, c, ch["ground"]] = 0.0
    view[0, :c, c, ch["deep"]] = 1.0  # water north of the fisher, three cells
    ripples = np.zeros(view.shape[:3], dtype=np.float32)
    ripples[0, c - 1, c], ripples[0, c - 2, c], ripples[0, c - 3, c] = 1 / 3, 2 / 3, 1.0
    score, best = _spot_scores(view, ripples, np.array([reach]))
    assert score[0, c, c] == pytest.approx(reach / 3) and best[0, c, c] == 0


def test_reading_comes_from_the_world():
    lake = load_world("lake")
    far = override_world(lake, {"fishing.cast_reach": 3})
    r = read_worlds([lake, far], n_fishers=2)
    assert r.cast_reach.tolist() == [2, 2, 3, 3]
    assert r.ripples_show.all()
    poor = override_world(lake, {"fish.capacity": {"shallow": 0.5, "deep": 1.0, "reeds": 2.0}})
    assert not read_worlds([poor], 1).ripples_show[0]  # the richest water stays below the first ripple level
    assert tuned_params("lake")[0] >= 0 and tuned_params("no-such-world") == tuned_params("default")


def test_give_up_times_come_from_the_bite_rule_and_depend_on_how_rich_a_spot_looks():
    """The best give-up time per ripple level: longer (or equal) at richer-looking spots (a wary
    line there still bites often enough to be worth the wait), longer where fish grow wary more
    slowly, and never where they never grow wary."""
    lake = load_world("lake")
    times = read_worlds([lake], 1).tuned_give_up[0]
    assert list(times) == sorted(times) and times[0] < times[-1]
    assert 10 <= times[-1] <= 25
    slow = read_worlds([override_world(lake, {"fishing.wary_ticks": 60.0})], 1).tuned_give_up[0]
    assert (slow > times).all()
    never = read_worlds([override_world(lake, {"fishing.wary_ticks": 0.0})], 1).tuned_give_up[0]
    assert (never >= 1000).all()


def test_the_expert_casts_where_no_ripple_can_show():
    """Where the richest cells cannot reach the first ripple level, the expert still fishes."""
    poor = override_world(load_world("lake"), {"fish.capacity": {"shallow": 0.5, "deep": 1.0, "reeds": 2.0}})
    r = run_policy(scripted_from_spec("scripted:expert"), poor, n_worlds=2, ticks=200, seed=0)
    assert r.catches.sum() > 0


def test_the_forecast_times_storms():
    """storm_eta from cloud and barometer against the hidden schedule: close before storms, inf otherwise."""
    sim = Simulation("lake", n_fishers=1, seeds=list(range(16)))
    r = read_worlds(sim.worlds, 1)
    errors, false_alarms, calm = [], 0, 0
    for _ in range(600):
        obs = sim.observe()[:, 0]
        eta = storm_eta(obs[:, LAYOUT["cloud"]].astype(float), obs[:, LAYOUT["barometer"]].astype(float),
                        obs[:, LAYOUT["storm"]] > 0.5, r)
        truth = sim.ground_truth()["front_in"][:, 0]
        bound = (sim.state.next_weather == STORM) & (sim.state.weather != STORM)
        cued = bound & (truth <= 8)  # late in the warning, the cues are unmistakable
        errors += list(np.abs(eta[cued] - truth[cued]))
        quiet = ~bound & (sim.state.weather != STORM)
        calm += quiet.sum()
        false_alarms += (quiet & (eta < 5)).sum()
        sim.step(np.zeros((16, 1), dtype=np.int64))
    assert len(errors) > 20 and np.median(errors) <= 5
    assert false_alarms / calm < 0.05


@pytest.mark.slow
def test_reacting_is_not_anticipating():
    """Before a storm breaks the expert is already sheltered; the reactive fisher is still out."""
    def sheltered_before_storm(spec: str) -> float:
        counts = np.zeros(2)

        def on_step(sim, actions, res):
            truth = sim.ground_truth()
            soon = (sim.state.next_weather == STORM) & (truth["front_in"][:, 0] <= 2)
            soon &= sim.state.weather != STORM
            counts[0] += (truth["sheltered"] & truth["alive"] & soon[:, None]).sum()
            counts[1] += (truth["alive"] & soon[:, None]).sum()

        run_policy(scripted_from_spec(spec), "lake", n_worlds=8, ticks=500, seed=0, on_step=on_step)
        return counts[0] / max(counts[1], 1)

    expert, reactive = sheltered_before_storm("scripted:expert"), sheltered_before_storm("scripted:reactive")
    assert expert > 0.4 and reactive < 0.15, (expert, reactive)


def test_the_oracle_reads_the_hidden_state_and_needs_binding():
    oracle = scripted_from_spec("scripted:oracle")
    sim = Simulation("lake", n_fishers=2, seeds=[0, 1])
    with pytest.raises(ValueError, match="bind"):
        oracle.act(sim.observe().reshape(-1, sim.observe().shape[-1]))
    oracle.bind(sim)
    obs = sim.observe().reshape(-1, sim.observe().shape[-1])
    from sim.observe import view_of

    density = oracle._ripples(view_of(obs))
    b, f = 1, 0
    row, col = sim.state.row[b, f], sim.state.col[b, f]
    fish = sim.state.fish[b, row, col] / sim.batch.p.fish_density_ref[b]
    assert density[b * 2 + f, VIEW_RADIUS, VIEW_RADIUS] == pytest.approx(min(fish / 2, 1.0), abs=1e-6)
    assert oracle.act(obs).shape == (4,)


def test_scripted_fishers_are_deterministic():
    a = run_policy(scripted_from_spec("scripted:expert", seed=3), "pond", n_worlds=2, ticks=150, seed=5)
    b = run_policy(scripted_from_spec("scripted:expert", seed=3), "pond", n_worlds=2, ticks=150, seed=5)
    assert np.array_equal(a.meals, b.meals) and np.array_equal(a.deaths, b.deaths)


def test_give_up_time_moves_the_fisher_on():
    """With a give-up time, a fisher that reels in empty walks away from the spot."""
    fisher = SkillFisher(name="patient", weather=False, spots=False, patience_ticks=3)
    r = run_policy(fisher, "lake", n_worlds=2, ticks=200, seed=0)
    never = run_policy(SkillFisher(name="patient", weather=False, spots=False, patience_ticks=10_000), "lake",
                       n_worlds=2, ticks=200, seed=0)
    assert r.reel_empty.sum() > 0 and never.reel_empty.sum() == 0
